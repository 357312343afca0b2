package org.jtarget.core.internal.scsi;

/**
 * The sanitize state of one logical unit (SBC-3 4.11): whether an operation runs (and how far it got),
 * or whether the last one failed (failure mode). Shared by the SANITIZE handler, the pipeline's gate and
 * REQUEST SENSE.
 */
public final class SanitizeState {
    private boolean running; // guarded by this
    private volatile int progress;
    private volatile boolean failed;
    private volatile boolean failedWithAuse;

    /** Claims the LU for a sanitize operation; false when one already runs. */
    public synchronized boolean start() {
        if (running) {
            return false;
        }
        running = true;
        progress = 0;
        return true;
    }

    public synchronized boolean running() {
        return running;
    }

    /** PROGRESS INDICATION: the fraction done, 0..65535 of 65536 (SPC-4 4.5.2.4.4). */
    public int progress() {
        return progress;
    }

    public void progress(long done, long total) {
        progress = total <= 0 ? 0 : (int) Math.min(0xFFFF, done * 0x10000 / total);
    }

    /** Ends the operation: success leaves failure mode, failure enters it (remembering AUSE). */
    public synchronized void finish(boolean ok, boolean ause) {
        running = false;
        failed = !ok;
        failedWithAuse = !ok && ause;
    }

    /** Failure mode: medium access gets MEDIUM ERROR, SANITIZE COMMAND FAILED. */
    public boolean failed() {
        return failed;
    }

    /** Whether the failed operation allowed EXIT FAILURE MODE (its AUSE bit). */
    public boolean exitAllowed() {
        return failedWithAuse;
    }

    /** EXIT FAILURE MODE: the medium is usable again although not sanitized. */
    public synchronized void exitFailureMode() {
        failed = false;
        failedWithAuse = false;
    }
}
