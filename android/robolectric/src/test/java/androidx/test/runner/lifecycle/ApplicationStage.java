package androidx.test.runner.lifecycle;

/** The application's lifecycle stage, as androidx.test:monitor names them. */
public enum ApplicationStage {
    PRE_ON_CREATE, CREATED
}
