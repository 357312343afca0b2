package org.jtarget.shell.internal.control;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * {@code jtarget exec}: runs one Gogo command line in the instance serving a home, through its control
 * socket, and exits with the command's status. Depends on the JDK only, so that
 * {@code java -cp jtarget-shell.jar org.jtarget.shell.internal.control.ExecClient HOME COMMAND...} starts fast.
 *
 * <p>The command words are joined with single spaces into one Gogo command line, as ssh does: pass the
 * whole line as one argument, or word by word; quote for Gogo inside it when a value has blanks
 * ({@code 'backstore:create d file "file=my disk.img"'}).
 *
 * <p>Exit status: the command's ({@link ControlProtocol#STATUS_OK 0} or
 * {@link ControlProtocol#STATUS_FAILED 1}), {@link ControlProtocol#STATUS_NO_INSTANCE 2} when no instance
 * runs in that home, {@link ControlProtocol#STATUS_PROTOCOL 3} when the connection broke,
 * {@link ControlProtocol#STATUS_USAGE 64} on wrong arguments.
 */
public final class ExecClient {
    private ExecClient() {
    }

    public static void main(String[] args) {
        OutputStream out = new FileOutputStream(FileDescriptor.out);
        OutputStream err = new FileOutputStream(FileDescriptor.err);
        System.exit(run(args, out, err));
    }

    /** {@link #main} without exiting: {@code args} are HOME COMMAND... */
    public static int run(String[] args, OutputStream out, OutputStream err) {
        if (args.length < 2 || args[0].isEmpty()) {
            message(err, "usage: ExecClient HOME COMMAND [ARGS...]  (runs one console command in the jtarget"
                    + " instance whose home is HOME)");
            return ControlProtocol.STATUS_USAGE;
        }
        String line = String.join(" ", Arrays.asList(args).subList(1, args.length)).strip();
        if (line.isEmpty()) {
            message(err, "jtarget exec: empty command (expected a console command, e.g. target:list)");
            return ControlProtocol.STATUS_USAGE;
        }
        return exec(Path.of(args[0]), line, out, err);
    }

    /** Runs {@code line} in the instance serving {@code home}, copying its output to {@code out}/{@code err}. */
    public static int exec(Path home, String line, OutputStream out, OutputStream err) {
        Path socket = ControlProtocol.socketPath(home.toAbsolutePath());
        if (!Files.exists(socket)) {
            message(err, "jtarget: no instance is running in " + home + " (no control socket " + socket + ")");
            return ControlProtocol.STATUS_NO_INSTANCE;
        }
        java.net.UnixDomainSocketAddress address;
        try {
            address = ControlProtocol.address(home.toAbsolutePath());
        } catch (IOException e) {
            message(err, "jtarget: " + e.getMessage());
            return ControlProtocol.STATUS_PROTOCOL;
        }
        SocketChannel channel;
        try {
            channel = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException | UnsupportedOperationException e) {
            message(err, "jtarget: this Java cannot open Unix-domain sockets (" + e + "; Java 16 or later is needed)");
            return ControlProtocol.STATUS_PROTOCOL;
        }
        try (channel) {
            try {
                channel.connect(address);
            } catch (ConnectException e) {
                message(err, "jtarget: no instance is running in " + home + " (nobody listens on " + socket
                        + "; it is left from an instance that stopped)");
                return ControlProtocol.STATUS_NO_INSTANCE;
            } catch (IOException e) {
                message(err, "jtarget: cannot connect to " + socket + ": " + e.getMessage()
                        + " (is the instance run by another user?)");
                return ControlProtocol.STATUS_NO_INSTANCE;
            }
            OutputStream request = Channels.newOutputStream(channel);
            byte[] command = line.getBytes(StandardCharsets.UTF_8);
            if (command.length > ControlProtocol.MAX_REQUEST) {
                message(err, "jtarget exec: command of " + command.length + " bytes (expected: <= "
                        + ControlProtocol.MAX_REQUEST + ")");
                return ControlProtocol.STATUS_USAGE;
            }
            ControlProtocol.writeFrame(request, ControlProtocol.REQUEST, command, 0, command.length);
            request.flush();
            InputStream response = Channels.newInputStream(channel);
            while (true) {
                ControlProtocol.Frame frame = ControlProtocol.readFrame(response, ControlProtocol.MAX_CHUNK);
                if (frame == null) {
                    message(err, "jtarget: the instance closed the connection before the command finished"
                            + " (is it stopping?)");
                    return ControlProtocol.STATUS_PROTOCOL;
                }
                switch (frame.type()) {
                    case ControlProtocol.STDOUT:
                        out.write(frame.payload());
                        out.flush();
                        break;
                    case ControlProtocol.STDERR:
                        err.write(frame.payload());
                        err.flush();
                        break;
                    case ControlProtocol.EXIT:
                        return frame.status();
                    default:
                        message(err, "jtarget: unexpected frame type " + (frame.type() & 0xff)
                                + " from the instance (expected O, E or X: client and instance of different versions?)");
                        return ControlProtocol.STATUS_PROTOCOL;
                }
            }
        } catch (IOException e) {
            message(err, "jtarget: connection to the instance failed: " + e.getMessage());
            return ControlProtocol.STATUS_PROTOCOL;
        }
    }

    private static void message(OutputStream err, String text) {
        try {
            err.write((text + "\n").getBytes(StandardCharsets.UTF_8));
            err.flush();
        } catch (IOException ignored) {
            // nowhere left to report it; the exit status still tells
        }
    }
}
