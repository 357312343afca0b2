package org.jtarget.systests;

import static org.jtarget.systests.JtargetInstance.DEFAULT_IQN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * The distribution as a user first meets it: a fresh home gives the default target with a 1 GiB LUN 0 on
 * the portal passed with --portal; real initiators discover it, identify it, size it, write and read it;
 * {@code bin/jtarget exec} manages it; data and configuration survive a SIGTERM and a restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DefaultTargetIT {
    /** Written before the restart, verified after it: {pattern, offset, length} as qemu-io arguments. */
    private static final String[][] PATTERNS = {
            {"0xa5", "0", "64k"},
            {"0x5a", "1M", "64k"},
            {"0x17", "2100736", "1536"},        // 2M + 3584: not 4 KiB aligned, qemu read-modify-writes blocks
            {"0xc3", "512M", "1M"},             // beyond one burst: several R2T / Data-In sequences
            {"0x3c", "1073737728", "4k"},       // the last 4 KiB of 1 GiB
    };

    private JtargetInstance jtarget;

    @BeforeAll
    void start() throws Exception {
        jtarget = JtargetInstance.create("default");
        jtarget.start();
    }

    @AfterAll
    void stop() throws Exception {
        if (jtarget != null) {
            jtarget.stop();
        }
    }

    @Test
    @Order(1)
    void discoveryListsTheDefaultTargetOnItsPortal() {
        Cmd.assumeInstalled("iscsi-ls", "libiscsi-bin");
        Cmd.Result r = Cmd.run("iscsi-ls", "-s", "iscsi://" + jtarget.portal());
        assertTrue(r.ok(), r::describe);
        // "Target:<iqn> Portal:<host:port>,<tpgt>" (SendTargets, RFC 7143 §12.3), then one line per LUN
        assertTrue(r.out().contains("Target:" + DEFAULT_IQN + " Portal:" + jtarget.portal() + ",1"), r::describe);
        assertTrue(Pattern.compile("(?m)^Lun:0\\s+Type:DIRECT_ACCESS").matcher(r.out()).find(), r::describe);
    }

    @Test
    @Order(2)
    void standardInquiryDescribesADiskDevice() {
        Cmd.assumeInstalled("iscsi-inq", "libiscsi-bin");
        Cmd.Result r = Cmd.run("iscsi-inq", jtarget.url(0));
        assertTrue(r.ok(), r::describe);
        // SPC-4 6.6.2: qualifier 000b (connected), peripheral device type 00h (direct access block device)
        assertTrue(r.out().contains("Peripheral Qualifier:CONNECTED"), r::describe);
        assertTrue(r.out().contains("Peripheral Device Type:DIRECT_ACCESS"), r::describe);
        assertTrue(r.out().contains("ReponseDataFormat:2"), r::describe); // sic, libiscsi's spelling
        assertTrue(Pattern.compile("(?m)^Vendor:\\S").matcher(r.out()).find(), r::describe);
        assertTrue(Pattern.compile("(?m)^Product:\\S").matcher(r.out()).find(), r::describe);
    }

    @Test
    @Order(3)
    void vpdPagesListSerialAndDeviceIdentification() {
        Cmd.assumeInstalled("iscsi-inq", "libiscsi-bin");
        // SPC-4 7.8.13 Supported VPD Pages: must list itself, 80h and 83h (83h is mandatory)
        Cmd.Result pages = Cmd.run("iscsi-inq", "-e", "1", "-c", "0", jtarget.url(0));
        assertTrue(pages.ok(), pages::describe);
        assertTrue(pages.out().contains("Page:0x00 SUPPORTED_VPD_PAGES"), pages::describe);
        assertTrue(pages.out().contains("Page:0x80 UNIT_SERIAL_NUMBER"), pages::describe);
        assertTrue(pages.out().contains("Page:0x83 DEVICE_IDENTIFICATION"), pages::describe);

        Cmd.Result serial = Cmd.run("iscsi-inq", "-e", "1", "-c", "128", jtarget.url(0));
        assertTrue(serial.ok(), serial::describe);
        Matcher m = Pattern.compile("Unit Serial Number:\\[\\s*(\\S[^\\]]*)\\]").matcher(serial.out());
        assertTrue(m.find(), () -> "no non-blank serial number: " + serial.describe());

        Cmd.Result ids = Cmd.run("iscsi-inq", "-e", "1", "-c", "131", jtarget.url(0));
        assertTrue(ids.ok(), ids::describe);
        assertTrue(ids.out().contains("DEVICE DESIGNATOR #0"), ids::describe);
        assertTrue(ids.out().contains("Association:(0) LOGICAL_UNIT"), ids::describe);
    }

    @Test
    @Order(4)
    void readCapacity16ReportsOneGibibyteOf512ByteBlocks() {
        Cmd.assumeInstalled("iscsi-readcapacity16", "libiscsi-bin");
        Cmd.Result r = Cmd.run("iscsi-readcapacity16", jtarget.url(0));
        assertTrue(r.ok(), r::describe);
        // SBC-3 5.16.2: RETURNED LOGICAL BLOCK ADDRESS is the last LBA: 2097152 blocks - 1
        assertTrue(r.out().contains("RETURNED LOGICAL BLOCK ADDRESS:2097151"), r::describe);
        assertTrue(r.out().contains("LOGICAL BLOCK LENGTH IN BYTES:512"), r::describe);
        assertTrue(r.out().contains("Total size:1073741824"), r::describe);
    }

    @Test
    @Order(5)
    void patternsWrittenAtSeveralOffsetsReadBackIntact() {
        Cmd.assumeQemuIscsi();
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, commands("write"));
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, commands("read"));
        // a region never written reads as zeros (the backing file is sparse)
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, "read -P 0 100M 64k");
        // the unaligned write left its never-written neighbours in the same blocks zero
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, "read -P 0 2M 3584", "read -P 0 2102272 2560");
    }

    @Test
    @Order(6)
    void execTargetListShowsTheDefaultTarget() {
        String out = jtarget.execOk("target:list");
        assertTrue(out.contains(DEFAULT_IQN), () -> "target:list printed:\n" + out);
    }

    @Test
    @Order(7)
    void execOfABadCommandFailsWithAMessage() {
        Cmd.Result unknownTarget = jtarget.exec("target:show iqn.2026-11.org.jtarget:no-such-target");
        assertNotEquals(0, unknownTarget.exit(), unknownTarget::describe);
        String said = unknownTarget.out() + unknownTarget.err();
        assertTrue(said.contains("no-such-target"), () -> "the message should name what was asked: "
                + unknownTarget.describe());
        assertFalse(said.contains("\tat org."), () -> "a one-line message, not a stack trace: " + unknownTarget.describe());

        Cmd.Result badNumber = jtarget.exec("lun:add " + DEFAULT_IQN + " 1 notanumber default");
        assertNotEquals(0, badNumber.exit(), badNumber::describe);
        assertFalse((badNumber.out() + badNumber.err()).isBlank(), () -> "no message: " + badNumber.describe());
    }

    @Test
    @Order(8)
    void execWithoutARunningInstanceFailsClearly() throws Exception {
        Path empty = Files.createTempDirectory(Path.of(System.getProperty("systests.work", "target")), "nohome");
        Path launcher = Path.of(System.getProperty("jtarget.distribution", "../distribution/target/jtarget"), "bin/jtarget");
        Cmd.Result r = Cmd.run(launcher.toString(), "--home", empty.toString(), "exec", "target:list");
        assertNotEquals(0, r.exit(), r::describe);
        assertFalse((r.out() + r.err()).isBlank(), () -> "no message: " + r.describe());
    }

    @Test
    @Order(100) // last: restarts the instance
    void dataAndConfigurationSurviveARestart() throws Exception {
        Cmd.assumeQemuIscsi();
        Cmd.assumeInstalled("iscsi-readcapacity16", "libiscsi-bin");
        // configuration made at run time: a second file backstore on LUN 1
        jtarget.execOk("backstore:create extra file file=extra.img size=64M");
        jtarget.execOk("lun:add " + DEFAULT_IQN + " 1 1 extra");
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, commands("write"));
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, "write -P 0x99 0 128k", "write -P 0x66 67104768 4k");

        long pid = jtarget.pid();
        assertTrue(jtarget.stop(), "pid " + pid + " did not exit within " + JtargetInstance.STOP_TIMEOUT.toSeconds()
                + " s of SIGTERM\n" + jtarget.consoleTail());
        assertTrue(Files.isRegularFile(jtarget.home().resolve("conf/jtarget.json")), "no conf/jtarget.json saved");

        jtarget.start();
        // LUN 1 is back with its size (64 MiB = 131072 blocks of 512: last LBA 131071)
        Cmd.Result cap = Cmd.run("iscsi-readcapacity16", jtarget.url(1));
        assertTrue(cap.ok(), () -> "LUN 1 added before the restart is gone: " + cap.describe());
        assertTrue(cap.out().contains("RETURNED LOGICAL BLOCK ADDRESS:131071"), cap::describe);
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 0, commands("read"));
        Qemu.io(jtarget.portal(), DEFAULT_IQN, 1, "read -P 0x99 0 128k", "read -P 0x66 67104768 4k");
        String list = jtarget.execOk("backstore:list");
        assertTrue(list.contains("extra"), () -> "backstore:list after restart:\n" + list);
    }

    private static String[] commands(String verb) {
        String[] c = new String[PATTERNS.length];
        for (int i = 0; i < c.length; i++) {
            c[i] = verb + " -P " + PATTERNS[i][0] + " " + PATTERNS[i][1] + " " + PATTERNS[i][2];
        }
        return c;
    }

    @Test
    @Order(0)
    void homeHasTheDocumentedLayout() {
        for (String d : new String[] {"conf", "data", "logs", "deploy", "run"}) {
            assertTrue(Files.isDirectory(jtarget.home().resolve(d)), () -> "home lacks " + d + "/: " + jtarget.home());
        }
        assertTrue(Files.isRegularFile(jtarget.home().resolve("data/default.img")), "no data/default.img");
        assertEquals(1L << 30, jtarget.home().resolve("data/default.img").toFile().length(),
                "default.img should be 1 GiB (sparse)");
    }
}
