package org.jtarget.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InstanceLockTest {

    @TempDir
    Path home;

    @Test
    void writesOwnPidAndRefusesASecondHolderInTheSameProcess() throws Exception {
        Path file = home.resolve("run/jtarget.pid");
        try (InstanceLock lock = InstanceLock.acquire(file)) {
            String pid = String.valueOf(ProcessHandle.current().pid());
            assertEquals(pid, Files.readString(file).trim());

            InstanceLock.HeldException e = assertThrows(InstanceLock.HeldException.class,
                    () -> InstanceLock.acquire(file));
            assertEquals(pid, e.holderPid());
            assertTrue(e.getMessage().contains("already running") && e.getMessage().contains("pid " + pid),
                    e.getMessage());
            // the refused attempt must not have clobbered the holder's PID
            assertEquals(pid, Files.readString(file).trim());
        }
        assertEquals("", Files.readString(file), "a clean release empties the PID file");
        InstanceLock.acquire(file).close(); // free again
    }

    @Test
    void anotherProcessHoldingTheLockIsRefusedAndItsDeathReleasesIt() throws Exception {
        Path file = home.resolve("run/jtarget.pid");
        Process holder = startHolder(file);
        try {
            InstanceLock.HeldException e = assertThrows(InstanceLock.HeldException.class,
                    () -> InstanceLock.acquire(file));
            assertEquals(String.valueOf(holder.pid()), e.holderPid());
        } finally {
            // SIGKILL: the kernel drops the lock although the holder never released it
            holder.destroyForcibly();
            assertTrue(holder.waitFor(10, TimeUnit.SECONDS));
        }
        assertEquals(String.valueOf(holder.pid()), Files.readString(file).trim(), "stale PID left behind");
        try (InstanceLock lock = InstanceLock.acquire(file)) {
            assertEquals(String.valueOf(ProcessHandle.current().pid()), Files.readString(file).trim());
        }
    }

    /** Starts {@link Holder} in a child JVM and waits until it holds the lock. */
    private static Process startHolder(Path file) throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                Holder.class.getName(), file.toString())
                .redirectErrorStream(true).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
        String line = out.readLine();
        if (!"locked".equals(line)) {
            p.destroyForcibly();
            throw new AssertionError("holder process did not take the lock: " + line);
        }
        return p;
    }

    /** Child process: takes the lock, says so, and keeps it until killed. */
    public static final class Holder {
        public static void main(String[] args) throws Exception {
            InstanceLock lock = InstanceLock.acquire(Paths.get(args[0]));
            System.out.println("locked");
            System.out.flush();
            Thread.sleep(60_000);
            lock.close();
        }
    }
}
