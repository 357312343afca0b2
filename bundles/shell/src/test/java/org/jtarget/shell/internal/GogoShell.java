package org.jtarget.shell.internal;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.Charset;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.jtarget.api.TargetService;

/**
 * The real Gogo runtime (as in Felix: ThreadIO redirecting System.out per session) with the shell's
 * commands registered under the scopes and functions their {@code @GogoCommand} annotations declare.
 */
final class GogoShell implements AutoCloseable {
    /** Scope, functions and command object, as in each class's {@code @GogoCommand}. */
    static Map<Object, String[]> commands(TargetService service) {
        Map<Object, String[]> map = new LinkedHashMap<>();
        map.put(new BackstoreCommands(service), new String[] {"backstore", "types", "list", "create", "delete", "set", "unset"});
        map.put(new TargetCommands(service), new String[] {"target", "list", "show", "create", "delete"});
        map.put(new TpgCommands(service), new String[] {"tpg", "create", "delete", "set", "unset"});
        map.put(new PortalCommands(service), new String[] {"portal", "add", "remove", "list"});
        map.put(new LunCommands(service), new String[] {"lun", "add", "remove", "list"});
        map.put(new AclCommands(service), new String[] {"acl", "add", "remove", "list", "chap", "nochap"});
        map.put(new PrCommands(service), new String[] {"pr", "show", "clear"});
        map.put(new AluaCommands(service), new String[] {"alua", "create", "delete", "set", "map", "list"});
        return map;
    }

    record Result(String out, String err, Exception failure, Object value) {
        /** What a user sees: the output, then the one-line error Gogo prints for a failure. */
        String shown() {
            return out + err + (failure == null ? "" : failure + "\n");
        }
    }

    final ThreadIOImpl threadIO = new ThreadIOImpl();
    final CommandProcessorImpl processor;

    GogoShell(TargetService service) {
        threadIO.start();
        processor = new CommandProcessorImpl(threadIO);
        commands(service).forEach((command, spec) -> {
            for (int i = 1; i < spec.length; i++) {
                processor.addCommand(spec[0], command, spec[i]);
            }
        });
    }

    Result run(String line) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (CommandSession session = processor.createSession(new ByteArrayInputStream(new byte[0]), out, err)) {
            Exception failure = null;
            Object value = null;
            try {
                value = session.execute(line);
                if (value != null) {
                    out.writeBytes((session.format(value, Converter.INSPECT) + "\n").getBytes());
                }
            } catch (Exception e) {
                failure = e;
            }
            return new Result(out.toString(Charset.defaultCharset()), err.toString(Charset.defaultCharset()),
                    failure, value);
        }
    }

    @Override
    public void close() {
        processor.stop();
        threadIO.stop();
    }
}
