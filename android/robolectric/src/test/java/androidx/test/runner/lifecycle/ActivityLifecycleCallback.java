package androidx.test.runner.lifecycle;

import android.app.Activity;

/** Told of every activity lifecycle change. */
public interface ActivityLifecycleCallback {
    void onActivityLifecycleChanged(Activity activity, Stage stage);
}
