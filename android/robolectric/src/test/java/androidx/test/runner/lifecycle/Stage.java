package androidx.test.runner.lifecycle;

/** An activity's lifecycle stage, as androidx.test:monitor names them (Robolectric signals these). */
public enum Stage {
    PRE_ON_CREATE, CREATED, STARTED, RESUMED, PAUSED, STOPPED, RESTARTED, DESTROYED
}
