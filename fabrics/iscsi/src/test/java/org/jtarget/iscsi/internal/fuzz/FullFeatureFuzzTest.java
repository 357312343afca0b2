package org.jtarget.iscsi.internal.fuzz;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LogoutRequest;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.pdu.Opcode;
import org.jtarget.iscsi.internal.pdu.ReadyToTransfer;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.SnackRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.iscsi.internal.testing.TestInitiator;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the full feature phase (RFC 7143 §11) after a good login (normal or discovery session, random
 * digests, ImmediateData, InitialR2T, burst and segment lengths): sequences of SCSI Commands, Data-Out (also
 * following the R2Ts the target sends), NOP-Out, Text, Task Management, Logout, SNACK and PDUs of other
 * opcodes, reader-idle events (the target pings), with generated fields (CmdSN in and out of the window, ITTs
 * fresh, reused or reserved, EDTL against the CDB, immediate data) and sometimes mutated BHS or data bytes. Each input is answered, closes the
 * connection, or leaves it open and answering a NOP-Out ping.
 */
class FullFeatureFuzzTest extends FuzzProperties {
    private static final byte[] OPCODES = {0x00, 0x12, 0x25, 0x28, 0x2a, (byte) 0x88, (byte) 0x8a, (byte) 0xa0,
            (byte) 0x9e, 0x1a, 0x5a, 0x35, 0x03, (byte) 0xff};
    /** One full feature phase input: kind (see {@link #pdu}), field choices, data, CDB, BHS mutations. */
    record Input(int kind, int[] f, byte[] data, byte[] cdb, List<Mutation> mutations) {
    }

    /** The login: discovery or normal, and a choice of operational values per key. */
    record Session(boolean discovery, int[] values) {
    }

    record Inputs(Session session, List<Input> inputs) {
    }

    static Session session(Gen g) {
        return new Session(g.weighted(6, 1) == 1, g.ints(7, () -> g.between(0, 99)));
    }

    /** Kinds weighted like a busy session: mostly commands and data, some of everything else. */
    static Input input(Gen g) {
        int kind = g.weighted(30, 20, 12, 10, 10, 3, 4, 10, 3);
        int[] fields = g.ints(10, () -> g.bool() ? g.between(0, 1000) : g.anyInt());
        byte[] data = switch (g.index(3)) {
            case 0 -> new byte[0];
            case 1 -> g.bytes(0, 64);
            default -> new byte[g.between(0, 2100)];
        };
        List<Mutation> mutations = g.weighted(9, 1) == 0 ? List.of() : Mutation.list(g, 2);
        return new Input(kind, fields, data, g.bytes(16, 24), mutations);
    }

    @Test
    void everyPduEndsInAnAnswerACloseOrALiveConnection() {
        Fuzz.check(g -> new Inputs(session(g), g.list(1, 10, () -> input(g))), FullFeatureFuzzTest::run);
    }

    private static void run(Inputs in) {
        Session session = in.session();
        try (FuzzConnection c = new FuzzConnection(FuzzConnection.Access.OPEN)) {
            login(c, session);
            for (Input input : in.inputs()) {
                if (c.closed()) {
                    break;
                }
                if (input.kind() == 8) { // §11.19: the target pings an initiator that stays silent
                    c.assertDefinedOutcome(c.idle());
                    continue;
                }
                IscsiPdu pdu = pdu(c, input);
                c.assertDefinedOutcome(input.mutations().isEmpty() ? c.exchange(pdu)
                        : c.exchangeMutated(pdu, input.mutations()));
            }
            Fuzz.collect(c.closed() ? "closed by an input" : "open at the end");
            if (!c.closed()) {
                c.assertPingAnswered();
                if (!session.discovery()) {
                    c.assertFullWindowAfterReset();
                }
            }
        }
        log.assertQuiet();
    }

    private static void login(FuzzConnection c, Session s) {
        int[] v = s.values();
        List<String> security = new ArrayList<>(List.of("InitiatorName=" + TestInitiator.INITIATOR,
                "SessionType=" + (s.discovery() ? "Discovery" : "Normal"), "AuthMethod=None"));
        if (!s.discovery()) {
            security.add("TargetName=" + FuzzConnection.TARGET);
        }
        List<String> operational = List.of(
                "HeaderDigest=" + (v[0] < 50 ? "None" : "CRC32C"),
                "DataDigest=" + (v[1] < 50 ? "None" : "CRC32C"),
                "ImmediateData=" + (v[2] < 50 ? "Yes" : "No"),
                "InitialR2T=" + (v[3] < 50 ? "Yes" : "No"),
                "FirstBurstLength=" + (512 + v[4] * 2600),
                "MaxBurstLength=" + (512 + v[5] * 5000),
                "MaxRecvDataSegmentLength=" + (512 + v[6] * 2600));
        exchangeLogin(c, true, 0, 1, security);
        exchangeLogin(c, true, 1, 3, operational);
        assertTrue(c.fullFeature, () -> "login failed\n" + c.transcript());
    }

    private static void exchangeLogin(FuzzConnection c, boolean transit, int csg, int nsg, List<String> keys) {
        StringBuilder sb = new StringBuilder();
        keys.forEach(k -> sb.append(k).append('\0'));
        byte[] text = sb.toString().getBytes(StandardCharsets.UTF_8);
        c.exchange(new LoginRequest(transit, false, csg, nsg, 0, 0, TestInitiator.ISID, 0, c.initiator.nextItt(), 1,
                c.initiator.cmdSn, c.initiator.expStatSn, c.alloc.copyOf(text, 0, text.length)))
                .forEach(ReferenceCountUtil::release);
    }

    /** The PDU of an input, with fields chosen against what the connection has seen so far. */
    private static IscsiPdu pdu(FuzzConnection c, Input in) {
        int[] f = in.f();
        ByteBuf data = c.alloc.copyOf(in.data(), 0, in.data().length);
        long lun = Math.floorMod(f[4], 10) < 8 ? 0 : (long) f[4] << 48;
        switch (in.kind()) {
            case 0:
                return command(c, in, data, lun);
            case 1: {
                ReadyToTransfer r2t = c.lastR2t;
                boolean follow = r2t != null && Math.floorMod(f[2], 3) != 0;
                int itt = follow ? r2t.itt() : Math.floorMod(f[2], 3) == 0 ? c.lastItt : itt(c, f);
                int ttt = follow ? r2t.ttt() : Math.floorMod(f[3], 2) == 0 ? IscsiPdu.RESERVED_TAG : f[3];
                int offset = follow && Math.floorMod(f[6], 3) != 0 ? r2t.bufferOffset() : Math.floorMod(f[6], 3) == 0 ? 0 : f[7];
                if (follow && Math.floorMod(f[6], 3) == 1 && data.readableBytes() > r2t.desiredLength()) {
                    data.writerIndex(Math.max(0, r2t.desiredLength())); // exactly what was asked
                }
                return new DataOut(Math.floorMod(f[8], 4) != 0, lun, itt, ttt, c.initiator.expStatSn, Math.floorMod(f[9], 3) == 0 ? f[9] : 0,
                        offset, data);
            }
            case 2: { // a ping, or the answer to the target's ping (ITT reserved, its TTT)
                int ttt = switch (Math.floorMod(f[3], 4)) {
                    case 0 -> f[3];
                    case 1 -> c.lastTargetPing;
                    default -> IscsiPdu.RESERVED_TAG;
                };
                return new NopOut(Math.floorMod(f[5], 3) == 0, lun,
                        Math.floorMod(f[2], 4) == 0 ? IscsiPdu.RESERVED_TAG : itt(c, f), ttt, cmdSn(c, f),
                        c.initiator.expStatSn, data);
            }
            case 3: {
                String[] texts = {"SendTargets=All\0", "SendTargets=\0", "SendTargets=" + FuzzConnection.TARGET + "\0",
                        "SendTargets=iqn.x:other\0", "X-vendor=1\0MaxBurstLength=512\0", "SendTargets=All"};
                int choice = Math.floorMod(f[5], 7);
                ByteBuf text = choice < texts.length ? c.alloc.copyOf(texts[choice].getBytes(StandardCharsets.UTF_8),
                        0, texts[choice].length()) : data.retain();
                data.release();
                int ttt = Math.floorMod(f[3], 3) == 0 ? c.lastTextTtt : Math.floorMod(f[3], 3) == 1 ? IscsiPdu.RESERVED_TAG : f[3];
                return new TextRequest(Math.floorMod(f[6], 4) == 0, Math.floorMod(f[7], 5) != 0, Math.floorMod(f[7], 5) == 0, lun, itt(c, f), ttt, cmdSn(c, f),
                        c.initiator.expStatSn, text);
            }
            case 4:
                data.release();
                return new TaskManagementRequest(Math.floorMod(f[6], 4) != 0, Math.floorMod(f[5], 16), lun, itt(c, f),
                        Math.floorMod(f[7], 2) == 0 ? c.lastItt : f[7], cmdSn(c, f), c.initiator.expStatSn,
                        refCmdSn(c, f), f[9]);
            case 5:
                data.release();
                return new LogoutRequest(Math.floorMod(f[6], 2) == 0, Math.floorMod(f[5], 5) < 4 ? Math.floorMod(f[5], 5) : f[5] & 0x7f, itt(c, f),
                        Math.floorMod(f[7], 4) == 0 ? f[7] & 0xffff : 1, cmdSn(c, f), c.initiator.expStatSn);
            case 6:
                data.release();
                return new SnackRequest(f[5] & 0x0f, lun, itt(c, f), f[3], c.initiator.expStatSn, f[6], f[7]);
            default: {
                Opcode[] all = Opcode.values();
                Opcode opcode = all[Math.floorMod(f[5], all.length)];
                return new PduSpec(opcode, f.length >= PduSpec.FIELDS ? f : Arrays.copyOf(f, PduSpec.FIELDS), lun,
                        in.data(), in.cdb()).build(data);
            }
        }
    }

    private static ScsiCommand command(FuzzConnection c, Input in, ByteBuf data, long lun) {
        int[] f = in.f();
        byte[] cdb = in.cdb().clone();
        cdb[0] = OPCODES[Math.floorMod(f[5], OPCODES.length)];
        int op = cdb[0] & 0xff;
        int lba = Math.floorMod(f[6], 70);
        int blocks = Math.floorMod(f[7], 5);
        boolean read = op == 0x28 || op == 0x88 || op == 0x12 || op == 0x25 || op == 0x9e || op == 0xa0
                || op == 0x1a || op == 0x5a || op == 0x03;
        boolean write = op == 0x2a || op == 0x8a;
        if (op == 0x28 || op == 0x2a) {
            cdb[2] = 0;
            cdb[3] = 0;
            cdb[4] = 0;
            cdb[5] = (byte) lba;
            cdb[7] = 0;
            cdb[8] = (byte) blocks;
        } else if (op == 0x88 || op == 0x8a) {
            Arrays.fill(cdb, 2, 14, (byte) 0);
            cdb[9] = (byte) lba;
            cdb[13] = (byte) blocks;
        }
        int length = blocks * 512;
        int edtl = switch (Math.floorMod(f[8], 6)) {
            case 0, 1 -> length;
            case 2 -> 0;
            case 3 -> Math.max(0, length + Math.floorMod(f[9], 1024) - 512);
            case 4 -> f[9] & 0xffff;
            default -> f[9];
        };
        if (Math.floorMod(f[5] >>> 4, 8) == 0) { // flags that do not match the CDB
            read = Math.floorMod(f[9], 2) == 0;
            write = Math.floorMod(f[9], 3) == 0;
        }
        if (!write && Math.floorMod(f[5] >>> 7, 4) != 0) {
            data.clear(); // mostly no immediate data without W (§11.3.1), sometimes some anyway
        }
        int itt = itt(c, f);
        c.lastItt = itt;
        return new ScsiCommand(Math.floorMod(f[5] >>> 9, 8) == 0, Math.floorMod(f[5] >>> 3, 8) != 0, read, write, 1, lun, itt, edtl,
                cmdSn(c, f), c.initiator.expStatSn, cdb, 0, data);
    }

    /** RefCmdSN of a TMF (§11.5.1): the last command's, one still to come or queued, or any. */
    private static int refCmdSn(FuzzConnection c, int[] f) {
        return switch (Math.floorMod(f[8], 4)) {
            case 0 -> c.initiator.cmdSn - 1;
            case 1 -> c.initiator.cmdSn;
            case 2 -> c.initiator.cmdSn + 1 + Math.floorMod(f[1], 3);
            default -> f[8];
        };
    }

    /** Mostly the next CmdSN; sometimes ahead (it waits), behind or far outside the window (dropped). */
    private static int cmdSn(FuzzConnection c, int[] f) {
        return switch (Math.floorMod(f[0], 10)) {
            case 7 -> c.initiator.cmdSn + 1 + Math.floorMod(f[1], 3);
            case 8 -> c.initiator.cmdSn - 1 - Math.floorMod(f[1], 3);
            case 9 -> f[1];
            default -> c.initiator.cmdSn++;
        };
    }

    /** Mostly a fresh ITT; sometimes the last command's (in use), the reserved one, or any. */
    private static int itt(FuzzConnection c, int[] f) {
        return switch (Math.floorMod(f[2], 10)) {
            case 6, 7 -> c.lastItt;
            case 8 -> IscsiPdu.RESERVED_TAG;
            case 9 -> f[3];
            default -> c.initiator.nextItt();
        };
    }
}
