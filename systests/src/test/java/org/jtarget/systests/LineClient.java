package org.jtarget.systests;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** A client of the example fabric {@code line} (examples/line-fabric): one command line, one answer line. */
final class LineClient implements AutoCloseable {
    private final Socket socket;
    private final BufferedReader in;
    private final OutputStream out;

    private LineClient(Socket socket) throws IOException {
        this.socket = socket;
        this.in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
        this.out = socket.getOutputStream();
    }

    /** Connects; throws (connection refused) while no fabric listens there. */
    static LineClient connect(int port, Duration timeout) throws IOException {
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress("127.0.0.1", port), (int) timeout.toMillis());
            s.setSoTimeout((int) timeout.toMillis());
            return new LineClient(s);
        } catch (IOException e) {
            s.close();
            throw e;
        }
    }

    /** Sends one command and returns the answer line; throws when the fabric closed the connection. */
    String send(String command) throws IOException {
        out.write((command + "\n").getBytes(StandardCharsets.US_ASCII));
        out.flush();
        String answer = in.readLine();
        if (answer == null) {
            throw new IOException("the line fabric closed the connection after: " + command);
        }
        return answer;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
