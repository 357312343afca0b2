package org.jtarget.shell.internal.control;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.nio.channels.Channels;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.felix.service.command.CommandProcessor;
import org.apache.felix.service.command.CommandSession;
import org.apache.felix.service.command.Converter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves {@code <home>/run/control.sock}: each connection brings one Gogo command line (framed as in
 * {@link ControlProtocol}), which runs in a fresh {@link CommandSession}; its output streams back as it is
 * written, then the exit status. A non-null result is printed as gosh prints it
 * ({@code session.format(result, Converter.INSPECT)}).
 *
 * <p>Access control is the file system's: the run folder is 0700 and the socket 0600, so only the user
 * running the instance can connect. Command lines are not logged (they may carry CHAP secrets).
 */
public final class ControlServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);
    /** The scopes of the shell's commands (see the @GogoCommand of each command class). */
    private static final Set<String> JTARGET_SCOPES = Set.of("backstore", "target", "tpg", "portal", "lun", "acl");

    private final CommandProcessor processor;
    private final Path home;
    private final Path socket;
    private final Set<SocketChannel> connections = ConcurrentHashMap.newKeySet();
    private final ExecutorService workers;
    private ServerSocketChannel server;
    private Thread acceptor;

    public ControlServer(CommandProcessor processor, Path home) {
        this.processor = processor;
        this.home = home.toAbsolutePath();
        this.socket = ControlProtocol.socketPath(this.home);
        AtomicInteger n = new AtomicInteger();
        this.workers = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "jtarget-exec-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    public Path socket() {
        return socket;
    }

    /**
     * Creates {@code run/} (0700), clears a stale socket and listens.
     *
     * @throws IOException when the socket cannot be bound, or another instance already answers on it
     */
    public synchronized void start() throws IOException {
        Path run = socket.getParent();
        if (!Files.isDirectory(run)) {
            Files.createDirectories(run);
        }
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwx------"));
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            if (answers()) {
                throw new IOException("another jtarget instance serves " + home + " (its control socket " + socket
                        + " answers); two instances must not share a home");
            }
            Files.delete(socket);
            LOG.info("removed the stale control socket {} left by an instance that stopped", socket);
        }
        ServerSocketChannel channel = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            channel.bind(ControlProtocol.address(home));
            // the folder is already private; this closes the socket itself to others right after bind
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw new IOException("cannot listen on " + socket + ": " + e.getMessage(), e);
        }
        server = channel;
        acceptor = new Thread(this::acceptLoop, "jtarget-exec-accept");
        acceptor.setDaemon(true);
        acceptor.start();
        LOG.info("exec channel listening on {}", socket);
    }

    private boolean answers() {
        try (SocketChannel probe = SocketChannel.open(ControlProtocol.address(home))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private void acceptLoop() {
        ServerSocketChannel channel = server;
        while (channel.isOpen()) {
            try {
                SocketChannel connection = channel.accept();
                connections.add(connection);
                workers.execute(() -> serve(connection));
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException | RuntimeException e) {
                if (!channel.isOpen()) {
                    return;
                }
                LOG.warn("exec channel: accept failed: {}", e.toString());
                try {
                    Thread.sleep(100); // do not spin on a persistent error (e.g. out of file descriptors)
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private void serve(SocketChannel connection) {
        try (connection) {
            InputStream in = Channels.newInputStream(connection);
            FrameWriter writer = new FrameWriter(Channels.newOutputStream(connection));
            ControlProtocol.Frame request;
            try {
                request = ControlProtocol.readFrame(in, ControlProtocol.MAX_REQUEST);
            } catch (IOException e) {
                writer.message(ControlProtocol.STDERR, "jtarget: bad request: " + e.getMessage());
                writer.exit(ControlProtocol.STATUS_PROTOCOL);
                return;
            }
            if (request == null) {
                return; // a probe, e.g. another instance checking whether this one is alive
            }
            if (request.type() != ControlProtocol.REQUEST) {
                writer.message(ControlProtocol.STDERR, "jtarget: request type " + (request.type() & 0xff)
                        + " (expected: " + ControlProtocol.REQUEST + "; client and instance of different versions?)");
                writer.exit(ControlProtocol.STATUS_PROTOCOL);
                return;
            }
            writer.exit(execute(new String(request.payload(), StandardCharsets.UTF_8), writer));
        } catch (IOException | RuntimeException e) {
            LOG.debug("exec channel: connection ended: {}", e.toString());
        } finally {
            connections.remove(connection);
        }
    }

    private int execute(String line, FrameWriter writer) {
        FrameOutputStream out = new FrameOutputStream(writer, ControlProtocol.STDOUT);
        FrameOutputStream err = new FrameOutputStream(writer, ControlProtocol.STDERR);
        String verb = line.strip().split("\\s+", 2)[0];
        LOG.debug("exec: {}", verb);
        CommandSession session = processor.createSession(InputStream.nullInputStream(), out, err);
        try {
            Object result = session.execute(line);
            if (result != null) {
                String text = session.format(result, Converter.INSPECT).toString();
                out.print(text.endsWith("\n") ? text : text + "\n"); // gosh's println, without doubling a newline
            }
            return ControlProtocol.STATUS_OK;
        } catch (Exception e) {
            out.flush();
            err.print(describe(verb, e) + "\n");
            return ControlProtocol.STATUS_FAILED;
        } finally {
            out.flush();
            err.flush();
            session.close();
        }
    }

    /** One line for the user. Expected refusals keep their message; anything else is logged in full too. */
    static String describe(String verb, Exception e) {
        String message = e.getMessage();
        String type = e.getClass().getName();
        if (e instanceof IllegalArgumentException && message != null && message.startsWith("Cannot coerce ")) {
            // Gogo found the verb but no signature taking these arguments
            return verb + ": wrong number or type of arguments (see: help " + verb + ")";
        }
        if (type.endsWith(".CommandNotFoundException") && JTARGET_SCOPES.contains(verb.split(":", 2)[0])) {
            // registered only while the core's TargetService runs
            return message + " (jtarget's commands are not available: the core is still starting or failed"
                    + " to start; see logs/jtarget.log)";
        }
        if (type.endsWith(".CommandFailure") || type.equals("org.jtarget.api.TargetException")
                || type.endsWith(".CommandNotFoundException") || type.endsWith(".SyntaxError")) {
            return message == null ? e.toString() : message.replace('\n', ' ');
        }
        LOG.warn("exec: {} failed unexpectedly", verb, e);
        return e.toString().replace('\n', ' ') + " (stack trace in the instance log)";
    }

    /** Stops listening, ends open connections and removes the socket file. Commands still running are interrupted. */
    @Override
    public synchronized void close() {
        if (server == null) {
            return;
        }
        try {
            server.close();
        } catch (IOException e) {
            LOG.debug("closing {}: {}", socket, e.toString());
        }
        workers.shutdownNow();
        for (SocketChannel c : connections) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        try {
            acceptor.join(2000);
            workers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {}", socket, e.toString());
        }
        server = null;
        LOG.info("exec channel closed");
    }

    /** Writes whole frames, one at a time; once the client is gone, output is dropped and the command runs on. */
    static final class FrameWriter {
        private final OutputStream out;
        private boolean broken;

        FrameWriter(OutputStream out) {
            this.out = out;
        }

        synchronized void frame(byte type, byte[] bytes, int offset, int length) {
            if (broken) {
                return;
            }
            try {
                ControlProtocol.writeFrame(out, type, bytes, offset, length);
                out.flush();
            } catch (IOException e) {
                broken = true;
            }
        }

        void message(byte type, String text) {
            byte[] bytes = (text + "\n").getBytes(StandardCharsets.UTF_8);
            frame(type, bytes, 0, bytes.length);
        }

        synchronized void exit(int status) {
            if (broken) {
                return;
            }
            try {
                ControlProtocol.writeExit(out, status);
                out.flush();
            } catch (IOException e) {
                broken = true;
            }
        }
    }

    /** Output of one stream, buffered up to a frame and sent on flush (Gogo's print streams flush per line). */
    static final class FrameOutputStream extends OutputStream {
        private final FrameWriter writer;
        private final byte type;
        private final byte[] buffer = new byte[ControlProtocol.MAX_CHUNK];
        private int count;

        FrameOutputStream(FrameWriter writer, byte type) {
            this.writer = writer;
            this.type = type;
        }

        @Override
        public synchronized void write(int b) {
            if (count == buffer.length) {
                flush();
            }
            buffer[count++] = (byte) b;
        }

        @Override
        public synchronized void write(byte[] b, int off, int len) {
            while (len > 0) {
                if (count == buffer.length) {
                    flush();
                }
                int n = Math.min(len, buffer.length - count);
                System.arraycopy(b, off, buffer, count, n);
                count += n;
                off += n;
                len -= n;
            }
        }

        void print(String text) {
            byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
            write(bytes, 0, bytes.length);
        }

        @Override
        public synchronized void flush() {
            if (count > 0) {
                writer.frame(type, buffer, 0, count);
                count = 0;
            }
        }

        @Override
        public void close() {
            flush();
        }
    }
}
