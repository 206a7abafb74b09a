package androidx.test.runner.intent;

import android.app.Instrumentation;
import android.content.Intent;

/** Answers started activities with a canned result (Espresso-Intents; unused here). */
public interface IntentStubber {
    Instrumentation.ActivityResult getActivityResultForIntent(Intent intent);
}
