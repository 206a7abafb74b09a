package androidx.test.runner.lifecycle;

/** Marker for the application monitor (nothing here reads it). */
public interface ApplicationLifecycleMonitor {}
