package androidx.test.runner.lifecycle;

/** Holds the one activity monitor Robolectric registers. */
public final class ActivityLifecycleMonitorRegistry {
    private static volatile ActivityLifecycleMonitor instance;

    private ActivityLifecycleMonitorRegistry() {}

    public static void registerInstance(ActivityLifecycleMonitor monitor) {
        instance = monitor;
    }

    public static ActivityLifecycleMonitor getInstance() {
        if (instance == null) throw new IllegalStateException("no activity lifecycle monitor registered");
        return instance;
    }
}
