package org.jtarget.systests.fuzz;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.jtarget.systests.wire.IscsiClient;
import org.jtarget.systests.wire.IscsiClient.Pdu;

/**
 * A valid login (AuthMethod None, a normal session on the fuzzed target, one time in ten a discovery session),
 * then up to {@value #MAX_PDUS} full feature phase PDUs (RFC 7143 §11) that are mostly plausible with fields
 * chosen at random, some byte-mutated on top (see {@link #hostile}): SCSI Commands with random CDBs (SBC/SPC
 * opcodes with LBAs near the LU, random EDTL, R/W/F bits and immediate data, sometimes an AHS), Data-Out for the
 * R2Ts received and for open writes with wrong offsets, DataSN, ITT or TTT, NOP-Out, Text (SendTargets, random
 * keys, continuations), Task Management (every function code), Logout (every reason), SNACK, reserved and
 * target opcodes, a DataSegmentLength beyond MaxRecvDataSegmentLength, random bytes, and a PDU cut short. The
 * answers are read as they come, then until the target is quiet or closes.
 */
final class FullFeatureFuzz extends FuzzConnection {
    static final int MAX_PDUS = 48;
    /** Byte mutations: one PDU in this many on a hostile connection, one in five times this on a calm one. */
    static final int MUTATE_ONE_IN = 6;
    /** SBC-4/SPC-6 opcodes worth reaching (reads, writes, caches, unmap, reservations, copy, reports) and VARIABLE. */
    private static final int[] OPCODES = {0x00, 0x03, 0x04, 0x08, 0x0a, 0x12, 0x15, 0x16, 0x17, 0x1a, 0x1b, 0x1d,
            0x1e, 0x25, 0x28, 0x2a, 0x2e, 0x2f, 0x34, 0x35, 0x3b, 0x3c, 0x41, 0x42, 0x48, 0x4d, 0x55, 0x56, 0x57, 0x5a,
            0x5e, 0x5f, 0x7f, 0x83, 0x84, 0x88, 0x89, 0x8a, 0x8e, 0x8f, 0x90, 0x91, 0x93, 0x9c, 0x9e, 0xa0, 0xa3,
            0xa8, 0xaa, 0xaf};
    /** LBAs of the fuzzed 1 GiB LU (2 Mi blocks of 512 bytes) and around its end. */
    private static final long BLOCKS = 1L << 21;

    private final NetworkFuzzer.Config config;
    private int itt = 0x100;
    private int cmdSn;
    /** R2Ts not yet answered: ITT, TTT, offset, length. */
    private final List<int[]> r2ts = new ArrayList<>();
    /** Writes sent: ITT, EDTL, bytes sent so far. */
    private final List<int[]> writes = new ArrayList<>();
    private final List<Integer> open = new ArrayList<>();
    /**
     * One connection in three is hostile: beside byte mutations it sends random bytes, oversized segments and
     * mutated commands, which mostly end it soon. The others stay in step longer and reach deeper states.
     */
    private final boolean hostile;
    private final int mutateOneIn;
    private int targetPingTtt = -1;
    private int textTtt = -1;

    FullFeatureFuzz(IscsiClient client, SplittableRandom random, FuzzCounts counts, NetworkFuzzer.Config config) {
        super(client, random, counts);
        this.config = config;
        this.hostile = random.nextInt(3) == 0;
        this.mutateOneIn = hostile ? MUTATE_ONE_IN : 5 * MUTATE_ONE_IN;
    }

    @Override
    void run() throws IOException {
        boolean discovery = random.nextInt(10) == 0;
        String name = NetworkFuzzer.initiatorName(random);
        long isid = NetworkFuzzer.isid(random);
        Pdu login;
        if (discovery) {
            login = client.loginRequest(true, 0, 1, isid, 0, List.of("InitiatorName=" + name,
                    "SessionType=Discovery", "AuthMethod=None"));
            if (login.loginStatus() == 0) {
                login = client.loginRequest(true, 1, 3, isid, 0, IscsiClient.OPERATIONAL);
            }
        } else {
            login = client.login(name, isid, config.target());
        }
        counts.add(String.format("login: %s session status 0x%04x", discovery ? "discovery" : "normal",
                login.loginStatus()));
        if (login.loginStatus() != 0) {
            drainEnd();
            return;
        }
        cmdSn = client.cmdSn();
        int n = 1 + random.nextInt(MAX_PDUS);
        for (int i = 0; i < n; i++) {
            nextPdu();
            drainNow();
        }
        if (hostile && random.nextInt(4) == 0) { // a PDU cut short, then silence: the target waits, then we leave
            byte[] whole = nop(random.nextInt(1, 2000));
            send("truncated", Arrays.copyOf(whole, random.nextInt(1, whole.length)));
        }
        drainEnd();
    }

    private void nextPdu() throws IOException {
        int roll = random.nextInt(hostile ? 100 : 86);
        if (roll < 34) {
            scsiCommand();
        } else if (roll < 50) {
            dataOut();
        } else if (roll < 60) {
            sendMaybeMutated("nop-out", nop(random.nextInt(4) == 0 ? random.nextInt(9000) : random.nextInt(64)),
                    mutateOneIn);
        } else if (roll < 67) {
            text();
        } else if (roll < 75) {
            taskManagement();
        } else if (roll < 77) {
            logout();
        } else if (roll < 81) {
            snack();
        } else if (roll < 86) { // reserved (0x07-0x0f, 0x11-0x1b), vendor (0x1c-0x1e) and target (0x20-0x3f) codes
            int opcode = random.nextInt(3) == 0 ? 0x20 + random.nextInt(32) : pick(0x07, 0x09, 0x0c, 0x0f, 0x11,
                    0x15, 0x1b, 0x1c, 0x1d, 0x1e);
            ByteBuffer b = header(opcode | (random.nextBoolean() ? 0x40 : 0), random.nextInt(256));
            send(opcode >= 0x20 ? "target opcode" : opcode >= 0x1c ? "vendor opcode" : "reserved opcode",
                    IscsiClient.frame(b, mutator.bytes(random.nextInt(100))));
        } else if (roll < 89) { // §11.2.1.5 against MaxRecvDataSegmentLength 262144: the target must stop reading
            ByteBuffer b = header(0x00 | 0x40, 0x80);
            byte[] pdu = IscsiClient.frame(b, new byte[0]);
            int length = random.nextInt(262145, 1 << 24);
            pdu[5] = (byte) (length >> 16);
            pdu[6] = (byte) (length >> 8);
            pdu[7] = (byte) length;
            send("oversized DataSegmentLength", pdu);
        } else if (roll < 93) {
            send("garbage bytes", mutator.bytes(random.nextInt(1, 3000)));
        } else {
            nextPduMutated();
        }
    }

    /** A SCSI Command byte-mutated for sure (beside the byte mutations of every kind). */
    private void nextPduMutated() throws IOException {
        send("scsi-command mutated", mutator.mutate(command(cdb(), random.nextInt(3) == 0)));
    }

    // ---- SCSI Command (§11.3) ----

    private void scsiCommand() throws IOException {
        sendMaybeMutated("scsi-command", command(cdb(), random.nextInt(20) == 0), mutateOneIn);
    }

    private byte[] command(byte[] cdb, boolean ahs) {
        int opcode = cdb[0] & 0xff;
        boolean write = isWrite(opcode);
        int blocks = transferBlocks(cdb);
        int edtl = random.nextInt(5) == 0 ? mutator.interestingInt() : isMedia(opcode) ? blocks * 512 : blocks;
        int flags = random.nextInt(5) == 0 ? random.nextInt(256)
                : 0x80 | (write ? 0x20 : edtl != 0 ? 0x40 : 0) | random.nextInt(3);
        boolean w = (flags & 0x20) != 0;
        int immediate = 0;
        if (w && edtl > 0) {
            immediate = random.nextInt(4) == 0 ? random.nextInt(0, 70000) : Math.min(edtl, 65536);
        }
        int tag = nextItt();
        boolean immediateCommand = random.nextInt(10) == 0;
        ByteBuffer b = header(0x01 | (immediateCommand ? 0x40 : 0), flags);
        b.putLong(8, lun());
        b.putInt(16, tag);
        b.putInt(20, edtl);
        b.putInt(24, immediateCommand ? cmdSn : commandSn());
        b.position(32);
        b.put(cdb, 0, 16);
        if (w) {
            writes.add(new int[] {tag, edtl, immediate});
        }
        open.add(tag);
        byte[] pdu = IscsiClient.frame(b, mutator.bytes(immediate));
        if (!ahs) {
            return pdu;
        }
        // §11.2.2: an AHS (extended CDB, bidirectional read length or a reserved type) after the BHS
        int length = random.nextInt(1, 300);
        byte[] segment = new byte[(3 + length + 3) & ~3];
        ByteBuffer.wrap(segment).putShort(0, (short) (random.nextInt(8) == 0 ? random.nextInt(1 << 16) : length));
        segment[2] = (byte) pick(1, 1, 2, 0, 0x3f, 0x40, 0xff);
        System.arraycopy(mutator.bytes(segment.length - 4), 0, segment, 4, segment.length - 4);
        byte[] out = new byte[pdu.length + segment.length];
        System.arraycopy(pdu, 0, out, 0, 48);
        System.arraycopy(segment, 0, out, 48, segment.length);
        System.arraycopy(pdu, 48, out, 48 + segment.length, pdu.length - 48);
        out[4] = (byte) (segment.length / 4);
        counts.add("mutation: AHS");
        return out;
    }

    /**
     * A CDB: one time in eight random after the opcode; else for media commands (reads, writes, verify, write
     * same, caches) an LBA near or inside the LU and a transfer length, for the others an allocation or parameter
     * list length where SPC puts it, and now and then random bits in byte 1 (flags, service action).
     */
    private byte[] cdb() {
        byte[] cdb = new byte[16];
        int opcode = random.nextInt(10) == 0 ? random.nextInt(256) : OPCODES[random.nextInt(OPCODES.length)];
        cdb[0] = (byte) opcode;
        if (random.nextInt(8) == 0) {
            System.arraycopy(mutator.bytes(15), 0, cdb, 1, 15);
            return cdb;
        }
        boolean media = isMedia(opcode);
        long lba = !media ? 0 : random.nextInt(3) == 0 ? BLOCKS - random.nextInt(1, 300) : random.nextLong(BLOCKS);
        int length = random.nextInt(8) == 0 ? random.nextInt(1 << 16) : random.nextInt(0, media ? 300 : 1024);
        ByteBuffer c = ByteBuffer.wrap(cdb);
        switch (opcode >> 5) {
            case 0 -> { // 6-byte CDBs: LBA 21 bits, length 1 byte
                c.put(1, (byte) ((lba >> 16) & 0x1f));
                c.putShort(2, (short) lba);
                c.put(4, (byte) length);
            }
            case 1, 2 -> { // 10-byte
                c.putInt(2, (int) lba);
                c.putShort(7, (short) length);
            }
            case 4 -> { // 16-byte
                c.putLong(2, lba);
                c.putInt(10, length);
            }
            case 5 -> { // 12-byte
                c.putInt(2, (int) lba);
                c.putInt(6, length);
            }
            default -> { }
        }
        if (random.nextInt(media ? 8 : 3) == 0) {
            cdb[1] = (byte) (media ? random.nextInt(256) : random.nextInt(32)); // flags or a service action
        }
        return cdb;
    }

    private static boolean isMedia(int opcode) {
        return switch (opcode) {
            case 0x08, 0x0a, 0x28, 0x2a, 0x2e, 0x2f, 0x34, 0x35, 0x41, 0x88, 0x89, 0x8a, 0x8e, 0x8f, 0x90, 0x91, 0x93,
                 0x9c, 0xa8, 0xaa -> true;
            default -> false;
        };
    }

    private static boolean isWrite(int opcode) {
        return switch (opcode) {
            case 0x0a, 0x2a, 0x2e, 0x41, 0x42, 0x55, 0x15, 0x3b, 0x5f, 0x83, 0x89, 0x8a, 0x8e, 0x93, 0x9c, 0xaa, 0x04,
                 0x1d -> true;
            default -> false;
        };
    }

    private static int transferBlocks(byte[] cdb) {
        ByteBuffer c = ByteBuffer.wrap(cdb);
        return switch ((cdb[0] & 0xff) >> 5) {
            case 0 -> cdb[4] & 0xff;
            case 1, 2 -> c.getShort(7) & 0xffff;
            case 4 -> c.getInt(10);
            case 5 -> c.getInt(6);
            default -> 1;
        };
    }

    // ---- Data-Out (§11.7) ----

    private void dataOut() throws IOException {
        int[] r2t = r2ts.isEmpty() || random.nextInt(5) == 0 ? null : r2ts.remove(random.nextInt(r2ts.size()));
        int[] w = writes.isEmpty() ? null : writes.get(random.nextInt(writes.size()));
        int tag;
        int ttt;
        int offset;
        int length;
        if (r2t != null) { // what the target asked for, then perhaps wrong in one field
            tag = r2t[0];
            ttt = r2t[1];
            offset = r2t[2];
            length = r2t[3];
        } else if (w != null) { // unsolicited data after the immediate data (§10.7.1)
            tag = w[0];
            ttt = -1;
            offset = w[2];
            length = Math.max(0, w[1] - w[2]);
        } else {
            tag = random.nextInt();
            ttt = random.nextInt();
            offset = random.nextInt(1 << 20);
            length = random.nextInt(1, 70000);
        }
        length = Math.min(length, 65536 * 4);
        int pieces = length > 65536 ? (length + 65535) / 65536 : 1 + random.nextInt(2);
        int dataSn = 0;
        String what = switch (random.nextInt(12)) {
            case 0 -> "offset";
            case 1 -> "datasn";
            case 2 -> "itt";
            case 3 -> "ttt";
            case 4 -> "length";
            case 5 -> "final";
            default -> "";
        };
        for (int done = 0, i = 0; i < pieces; i++, dataSn++) {
            int chunk = i == pieces - 1 ? length - done : Math.min(65536, length / pieces);
            boolean last = i == pieces - 1;
            ByteBuffer b = header(0x05, last != what.equals("final") ? 0x80 : 0);
            b.putLong(8, lun());
            b.putInt(16, what.equals("itt") ? mutator.interestingInt() : tag);
            b.putInt(20, what.equals("ttt") ? mutator.interestingInt() : ttt);
            b.putInt(36, what.equals("datasn") ? dataSn + random.nextInt(-2, 3) : dataSn);
            b.putInt(40, what.equals("offset") ? offset + done + pick(-512, -1, 1, 512, 1 << 20) : offset + done);
            int size = what.equals("length") ? chunk + random.nextInt(1, 1024) : chunk;
            sendMaybeMutated(what.isEmpty() ? "data-out" : "data-out wrong " + what,
                    IscsiClient.frame(b, new byte[Math.max(0, size)]), mutateOneIn * 2);
            done += chunk;
        }
        if (w != null && r2t == null) {
            w[2] = w[1];
        }
    }

    // ---- NOP-Out, Text, TMF, Logout, SNACK ----

    private byte[] nop(int dataLength) {
        boolean answerPing = targetPingTtt != -1 && random.nextBoolean();
        boolean noReply = answerPing || random.nextInt(6) == 0;
        boolean immediate = noReply || random.nextInt(3) > 0; // ITT 0xffffffff needs the I bit (§11.18)
        ByteBuffer b = header(0x00 | (immediate ? 0x40 : 0), 0x80);
        b.putLong(8, lun());
        b.putInt(16, noReply ? -1 : nextItt()); // ITT 0xffffffff: no NOP-In wanted (§11.18.3)
        b.putInt(20, answerPing ? targetPingTtt : random.nextInt(8) == 0 ? random.nextInt() : -1);
        b.putInt(24, immediate ? cmdSn : commandSn()); // §4.2.2.1: only non-immediate PDUs advance CmdSN
        if (answerPing) {
            targetPingTtt = -1;
        }
        return IscsiClient.frame(b, mutator.bytes(dataLength));
    }

    private void text() throws IOException {
        boolean next = textTtt != -1 && random.nextBoolean(); // fetch the rest of a long answer (§11.10.4)
        int flags = random.nextInt(6) == 0 ? random.nextInt(256) & 0xc0 : 0x80;
        boolean immediate = random.nextInt(4) == 0;
        ByteBuffer b = header(0x04 | (immediate ? 0x40 : 0), flags);
        b.putInt(16, nextItt());
        b.putInt(20, next ? textTtt : random.nextInt(10) == 0 ? random.nextInt() : -1);
        b.putInt(24, immediate ? cmdSn : commandSn());
        List<String> keys = new ArrayList<>(List.of("SendTargets=" + pick("All", "All", "", config.target(),
                "iqn.2026-12.org.example:none")));
        byte[] data = next ? new byte[0] : random.nextInt(3) == 0 ? mutator.mutateText(keys) : IscsiClient.text(keys);
        textTtt = next ? -1 : textTtt;
        sendMaybeMutated("text", IscsiClient.frame(b, data), mutateOneIn);
    }

    private void taskManagement() throws IOException {
        int function = random.nextInt(8) == 0 ? random.nextInt(128) : random.nextInt(1, 15);
        boolean immediate = random.nextInt(5) > 0;
        ByteBuffer b = header(0x02 | (immediate ? 0x40 : 0), 0x80 | function);
        b.putLong(8, lun());
        b.putInt(16, nextItt());
        int ref = open.isEmpty() || random.nextInt(4) == 0 ? random.nextInt() : open.get(random.nextInt(open.size()));
        b.putInt(20, function == 1 || function == 9 ? ref : -1); // Referenced Task Tag
        b.putInt(24, immediate ? cmdSn : commandSn());
        b.putInt(32, cmdSn - random.nextInt(0, 4)); // RefCmdSN
        b.putInt(36, random.nextInt(4) == 0 ? random.nextInt() : 0); // ExpDataSN
        sendMaybeMutated(function <= 15 ? "tmf function " + function : "tmf function reserved",
                IscsiClient.frame(b, new byte[0]), mutateOneIn);
    }

    private void logout() throws IOException {
        int reason = random.nextInt(4) == 0 ? random.nextInt(128) : random.nextInt(3);
        boolean immediate = random.nextBoolean();
        ByteBuffer b = header(0x06 | (immediate ? 0x40 : 0), 0x80 | reason);
        b.putInt(16, nextItt());
        b.putShort(20, (short) (random.nextInt(4) == 0 ? random.nextInt(1 << 16) : 1)); // CID
        b.putInt(24, immediate ? cmdSn : commandSn());
        sendMaybeMutated(reason <= 2 ? "logout reason " + reason : "logout reason reserved",
                IscsiClient.frame(b, new byte[0]), mutateOneIn);
    }

    private void snack() throws IOException {
        ByteBuffer b = header(0x10, 0x80 | random.nextInt(16));
        b.putLong(8, lun());
        b.putInt(16, open.isEmpty() ? random.nextInt() : open.get(random.nextInt(open.size())));
        b.putInt(20, random.nextInt());
        b.putInt(40, random.nextInt(8)); // BegRun
        b.putInt(44, random.nextInt(8)); // RunLength
        sendMaybeMutated("snack", IscsiClient.frame(b, new byte[0]), mutateOneIn);
    }

    // ---- state and fields ----

    @Override
    void onAnswer(Pdu pdu) {
        switch (pdu.opcode()) {
            case 0x31 -> r2ts.add(new int[] {pdu.itt(), pdu.intAt(20), pdu.intAt(40), pdu.intAt(44)});
            case 0x21 -> ended(pdu.itt());
            case 0x25 -> {
                if ((pdu.flags() & 0x01) != 0) {
                    ended(pdu.itt());
                }
            }
            case 0x20 -> {
                if (pdu.itt() == -1) {
                    targetPingTtt = pdu.intAt(20);
                }
            }
            case 0x24 -> textTtt = (pdu.flags() & 0x40) != 0 ? pdu.intAt(20) : -1;
            default -> { }
        }
    }

    private void ended(int tag) {
        open.remove((Integer) tag);
        writes.removeIf(w -> w[0] == tag);
        r2ts.removeIf(r -> r[0] == tag);
    }

    /** A BHS with ExpStatSN set; CmdSN and the rest are the caller's. */
    private ByteBuffer header(int opcodeByte, int flags) {
        ByteBuffer b = IscsiClient.bhs(opcodeByte, flags, 0);
        b.putInt(28, client.expStatSn());
        return b;
    }

    /** The next CmdSN, or now and then one outside the window or repeated (§4.2.2.1). */
    private int commandSn() {
        return switch (random.nextInt(20)) {
            case 0 -> random.nextInt();
            case 1 -> cmdSn - 1;
            case 2 -> cmdSn + random.nextInt(1, 200);
            default -> cmdSn++;
        };
    }

    /** A new ITT, or now and then one still in use or the reserved 0xffffffff (§11.2.1.8). */
    private int nextItt() {
        return switch (random.nextInt(25)) {
            case 0 -> -1;
            case 1 -> open.isEmpty() ? itt : open.get(random.nextInt(open.size()));
            default -> itt++;
        };
    }

    /** LUN 0 mostly; LUN 1 (not mapped), or 8 random bytes (SAM-5 §4.7). */
    private long lun() {
        return switch (random.nextInt(12)) {
            case 0 -> 1L << 48;
            case 1 -> random.nextLong();
            default -> 0;
        };
    }

    private int pick(int... choices) {
        return choices[random.nextInt(choices.length)];
    }

    private String pick(String... choices) {
        return choices[random.nextInt(choices.length)];
    }
}
