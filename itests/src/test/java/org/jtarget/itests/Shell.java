package org.jtarget.itests;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;

/** Runs shell command lines the way the console and {@code jtarget exec} do: through Gogo's CommandProcessor. */
final class Shell {
    private final CommandProcessor processor;

    Shell(CommandProcessor processor) {
        this.processor = processor;
    }

    /** Runs one line and returns what it printed; a refused command throws what the command threw. */
    String run(String line) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream print = new PrintStream(out, true, StandardCharsets.UTF_8);
        CommandSession session = processor.createSession(new ByteArrayInputStream(new byte[0]), print, print);
        try {
            Object result = session.execute(line);
            if (result != null) {
                print.println(session.format(result, 0)); // as the console would show a returned value
            }
        } finally {
            session.close();
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    /** Runs a line that must be refused; returns the message the user reads. */
    String refused(String line) {
        String output;
        try {
            output = run(line);
        } catch (Exception e) {
            Throwable t = e;
            while (t.getMessage() == null && t.getCause() != null) {
                t = t.getCause();
            }
            return String.valueOf(t.getMessage());
        }
        throw new AssertionError("expected '" + line + "' to be refused; it printed: " + output);
    }
}
