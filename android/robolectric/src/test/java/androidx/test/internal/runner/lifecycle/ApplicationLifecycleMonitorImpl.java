package androidx.test.internal.runner.lifecycle;

import android.app.Application;
import androidx.test.runner.lifecycle.ApplicationLifecycleMonitor;
import androidx.test.runner.lifecycle.ApplicationStage;

/** Accepts Robolectric's application-stage signals (nothing here reads them). */
public final class ApplicationLifecycleMonitorImpl implements ApplicationLifecycleMonitor {
    public ApplicationLifecycleMonitorImpl() {}

    public void signalLifecycleChange(Application app, ApplicationStage stage) {}
}
