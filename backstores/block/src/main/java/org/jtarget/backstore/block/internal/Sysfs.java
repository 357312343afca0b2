package org.jtarget.backstore.block.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * What Linux tells about a block device outside its ioctls: the request queue's attributes
 * ({@code /sys/dev/block/MAJ:MIN/queue}, Documentation/ABI/stable/sysfs-block) and who uses it (mounts in
 * {@code /proc/self/mountinfo}, holders such as device-mapper or md in {@code holders/}, swap, and the same
 * for its partitions). The roots are parameters so that tests can point them at a prepared folder.
 */
final class Sysfs {
    private final Path sysDevBlock;
    private final Path mountinfo;
    private final Path swaps;

    Sysfs(Path sysDevBlock, Path mountinfo, Path swaps) {
        this.sysDevBlock = sysDevBlock;
        this.mountinfo = mountinfo;
        this.swaps = swaps;
    }

    static Sysfs system() {
        return new Sysfs(Path.of("/sys/dev/block"), Path.of("/proc/self/mountinfo"), Path.of("/proc/swaps"));
    }

    /** glibc's gnu_dev_major/gnu_dev_minor of an st_rdev. */
    static String majorMinor(long rdev) {
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        return major + ":" + minor;
    }

    /** The device's own sysfs folder (links resolved), or null when sysfs does not know it. */
    Path deviceDir(String majorMinor) {
        try {
            return sysDevBlock.resolve(majorMinor).toRealPath();
        } catch (IOException e) {
            return null;
        }
    }

    /** The queue folder: the device's own, or its disk's for a partition. */
    static Path queueDir(Path deviceDir) {
        if (deviceDir == null) {
            return null;
        }
        Path own = deviceDir.resolve("queue");
        if (Files.isDirectory(own)) {
            return own;
        }
        Path disk = deviceDir.getParent() == null ? null : deviceDir.getParent().resolve("queue");
        return disk != null && Files.isDirectory(disk) ? disk : null;
    }

    /** A numeric queue attribute, or {@code otherwise} when it is absent or not a number. */
    static long number(Path queueDir, String attribute, long otherwise) {
        String text = text(queueDir, attribute);
        if (text == null) {
            return otherwise;
        }
        try {
            return Long.parseLong(text);
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }

    /** A queue attribute's trimmed text, or null. */
    static String text(Path queueDir, String attribute) {
        if (queueDir == null) {
            return null;
        }
        try {
            return Files.readString(queueDir.resolve(attribute)).strip();
        } catch (IOException e) {
            return null;
        }
    }

    /**
     * Who uses the device or one of its partitions, one phrase each ("mounted at /mnt", "held by dm-0",
     * "swap"), empty when nobody is known to. {@code devicePath} is the device node, links resolved.
     */
    List<String> users(String majorMinor, Path devicePath) {
        List<String> users = new ArrayList<>();
        Path dir = deviceDir(majorMinor);
        List<String> devices = new ArrayList<>();
        devices.add(majorMinor);
        List<String> names = new ArrayList<>();
        names.add(devicePath.toString());
        if (dir != null) {
            for (Path partition : partitions(dir)) {
                String dev = text(partition, "dev");
                if (dev != null) {
                    devices.add(dev);
                    names.add("/dev/" + partition.getFileName());
                }
            }
            holders(dir, users);
            for (Path partition : partitions(dir)) {
                holders(partition, users);
            }
        }
        mounts(devices, names, users);
        swap(names, users);
        return users;
    }

    private static List<Path> partitions(Path deviceDir) {
        try (Stream<Path> s = Files.list(deviceDir)) {
            return s.filter(p -> Files.isRegularFile(p.resolve("partition"))).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    private static void holders(Path dir, List<String> users) {
        try (Stream<Path> s = Files.list(dir.resolve("holders"))) {
            s.map(p -> "held by " + p.getFileName() + " (" + dir.getFileName() + ")").sorted().forEach(users::add);
        } catch (NoSuchFileException e) {
            // no holders folder: nobody holds it
        } catch (IOException e) {
            users.add("holders unknown (" + e.getMessage() + ")");
        }
    }

    /** mountinfo(5): field 3 is MAJ:MIN of the file system, the mount source follows the " - " and type. */
    private void mounts(List<String> devices, List<String> names, List<String> users) {
        List<String> lines;
        try {
            lines = Files.readAllLines(mountinfo);
        } catch (IOException e) {
            return;
        }
        for (String line : lines) {
            String[] f = line.split(" ");
            int dash = List.of(f).indexOf("-");
            if (f.length < 5 || dash < 0 || dash + 2 >= f.length) {
                continue;
            }
            String source = unescape(f[dash + 2]);
            if (devices.contains(f[2]) || names.contains(source) || names.contains(realPath(source))) {
                users.add("mounted at " + unescape(f[4]));
            }
        }
    }

    private void swap(List<String> names, List<String> users) {
        try {
            for (String line : Files.readAllLines(swaps)) {
                String first = line.split("\\s+")[0];
                if (names.contains(first) || names.contains(realPath(first))) {
                    users.add("used as swap");
                }
            }
        } catch (IOException e) {
            // no swap information
        }
    }

    private static String realPath(String name) {
        try {
            return name.startsWith("/") ? Path.of(name).toRealPath().toString() : name;
        } catch (IOException | RuntimeException e) {
            return name;
        }
    }

    /** mountinfo escapes space, tab, newline and backslash as octal. */
    private static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
