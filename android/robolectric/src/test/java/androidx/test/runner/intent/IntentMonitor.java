package androidx.test.runner.intent;

/** Marker for the intent monitor (nothing here reads it). */
public interface IntentMonitor {}
