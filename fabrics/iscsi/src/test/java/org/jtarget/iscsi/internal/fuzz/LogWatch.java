package org.jtarget.iscsi.internal.fuzz;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Watches what slf4j-simple writes to {@code System.err} while fuzzing. IscsiConnection turns an exception
 * thrown while handling a PDU into a WARN and a closed connection, which from outside looks like a defined
 * outcome; here a WARN or ERROR record, or an exception reaching {@code exceptionCaught}, is a defect. INFO
 * records (one per rejected input) are counted, not printed, so a fuzz run does not flood the build log.
 */
final class LogWatch extends OutputStream {
    private static final String[] DEFECTS = {" WARN ", " ERROR ", "IscsiConnection - connection from"};

    private final PrintStream original;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private final List<String> problems = new ArrayList<>();
    private boolean forwarding;
    private long suppressed;

    private LogWatch(PrintStream original) {
        this.original = original;
    }

    static LogWatch install() {
        LogWatch watch = new LogWatch(System.err);
        System.setErr(new PrintStream(watch, true, StandardCharsets.UTF_8));
        return watch;
    }

    void uninstall() {
        System.err.flush();
        System.setErr(original);
    }

    /** Fails when a defect was logged since the last call; forgets it either way. */
    synchronized void assertQuiet() {
        System.err.flush();
        if (!problems.isEmpty()) {
            List<String> copy = List.copyOf(problems);
            problems.clear();
            throw new AssertionError("logged: " + copy + " (expected: no WARN, ERROR or exception)");
        }
    }

    synchronized long suppressed() {
        return suppressed;
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
        int start = off;
        for (int i = off; i < off + len; i++) {
            if (b[i] == '\n') {
                line.write(b, start, i - start);
                String text = line.toString(StandardCharsets.UTF_8);
                line.reset();
                onLine(text);
                start = i + 1;
            }
        }
        line.write(b, start, off + len - start);
    }

    @Override
    public synchronized void write(int b) {
        if (b == '\n') {
            String text = line.toString(StandardCharsets.UTF_8);
            line.reset();
            onLine(text);
        } else {
            line.write(b);
        }
    }

    private void onLine(String text) {
        boolean record = text.startsWith("[");
        if (record) {
            forwarding = false;
            for (String d : DEFECTS) {
                if (text.contains(d)) {
                    problems.add(text);
                    forwarding = true;
                }
            }
        } else if (!forwarding && !text.startsWith("\t") && !text.startsWith("Caused by")) {
            forwarding = true; // not slf4j-simple output: pass it on
        }
        if (forwarding) {
            original.println(text);
        } else {
            suppressed++;
        }
    }
}
