package androidx.test.platform.app;

import android.app.Instrumentation;
import android.os.Bundle;

/**
 * Stand-in for androidx.test:monitor's registry (only Google's Maven serves that artifact, unreachable from
 * this project's CI): Robolectric registers its Instrumentation here when it sets up each test.
 */
public final class InstrumentationRegistry {
    private static volatile Instrumentation instrumentation;
    private static volatile Bundle arguments = new Bundle();

    private InstrumentationRegistry() {}

    /** Called by Robolectric's test environment before every test. */
    public static void registerInstance(Instrumentation instrumentation, Bundle arguments) {
        InstrumentationRegistry.instrumentation = instrumentation;
        InstrumentationRegistry.arguments = arguments == null ? new Bundle() : new Bundle(arguments);
    }

    /** The Instrumentation of the running test. */
    public static Instrumentation getInstrumentation() {
        if (instrumentation == null) throw new IllegalStateException("no instrumentation registered");
        return instrumentation;
    }

    /** The instrumentation arguments (empty under Robolectric). */
    public static Bundle getArguments() {
        return new Bundle(arguments);
    }
}
