package androidx.test.internal.runner.intent;

import android.content.Intent;
import androidx.test.runner.intent.IntentMonitor;

/** Accepts Robolectric's started-intent signals (tests read started intents from Robolectric's shadows). */
public final class IntentMonitorImpl implements IntentMonitor {
    public IntentMonitorImpl() {}

    public void signalIntent(Intent intent) {}
}
