package org.jtarget.iscsi.internal.session;

import static org.jtarget.iscsi.internal.testing.TestInitiator.text;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.jtarget.iscsi.internal.pdu.DataIn;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.pdu.LogoutRequest;
import org.jtarget.iscsi.internal.pdu.LogoutResponse;
import org.jtarget.iscsi.internal.pdu.NopIn;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.pdu.ReadyToTransfer;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementResponsePdu;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.iscsi.internal.pdu.TextResponse;
import org.jtarget.iscsi.internal.testing.FakeScsiSession;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.iscsi.internal.testing.MemoryDisk;
import org.jtarget.iscsi.internal.testing.TestInitiator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Login and full feature phase over an EmbeddedChannel against a fake core (RFC 7143 §11). */
class IscsiConnectionTest {
    private static final String TARGET = "iqn.2026-11.org.jtarget:unit";
    private final FakeTargetCore core = new FakeTargetCore();
    private final FakeTargetCore.FakeTpg tpg = core.addTarget(TARGET, 1, TestInitiator.PORTAL, 64);
    private final SessionRegistry registry = new SessionRegistry();
    private final TestInitiator initiator = new TestInitiator(core, registry);

    @AfterEach
    void close() {
        initiator.close();
    }

    private ScsiCommand command(byte[] cdb, boolean read, boolean write, int edtl, ByteBuf immediate, boolean fin) {
        byte[] full = Arrays.copyOf(cdb, 16);
        return new ScsiCommand(false, fin, read, write, 1, 0, initiator.nextItt(), edtl, initiator.cmdSn++,
                initiator.expStatSn, full, 0, immediate);
    }

    private static byte[] read10(int lba, int blocks) {
        return new byte[] {0x28, 0, (byte) (lba >> 24), (byte) (lba >> 16), (byte) (lba >> 8), (byte) lba, 0,
                (byte) (blocks >> 8), (byte) blocks, 0};
    }

    private static byte[] write10(int lba, int blocks) {
        byte[] cdb = read10(lba, blocks);
        cdb[0] = 0x2a;
        return cdb;
    }

    @Test
    void testUnitReadyGetsGoodStatusAndSequenceNumbersMove() {
        initiator.loginNormal(TARGET);
        assertEquals(1, registry.size());
        initiator.send(command(new byte[] {0}, false, false, 0, null, true));
        ScsiResponsePdu response = initiator.receive(ScsiResponsePdu.class);
        assertEquals(0, response.status());
        assertEquals(ScsiResponsePdu.COMMAND_COMPLETED, response.response());
        assertEquals(initiator.expStatSn, response.statSn());
        assertEquals(initiator.cmdSn, response.expCmdSn());
        assertEquals(initiator.cmdSn + IscsiConnection.WINDOW - 1, response.maxCmdSn());
        assertFalse(response.underflow() || response.overflow());
    }

    @Test
    void readCollapsesStatusIntoTheLastDataIn() {
        initiator.loginNormal(TARGET, "MaxRecvDataSegmentLength=512");
        Arrays.fill(tpg.disk.bytes, 512, 1536, (byte) 0x5a);
        initiator.send(command(read10(1, 2), true, false, 1024, null, true));
        List<IscsiPdu> pdus = initiator.receiveAll();
        assertEquals(2, pdus.size(), "1024 bytes in PDUs of at most 512: " + pdus);
        DataIn first = (DataIn) pdus.get(0);
        DataIn last = (DataIn) pdus.get(1);
        assertFalse(first.statusPresent());
        assertEquals(0, first.dataSn());
        assertEquals(0, first.bufferOffset());
        assertTrue(last.statusPresent() && last.finalFlag());
        assertEquals(1, last.dataSn());
        assertEquals(512, last.bufferOffset());
        assertEquals(0, last.status());
        assertEquals(initiator.expStatSn, last.statSn());
        assertEquals(0x5a, last.data().getByte(511));
        pdus.forEach(ReferenceCountUtil::release);
    }

    @Test
    void shortTransferReportsUnderflowAndLongOneOverflow() {
        initiator.loginNormal(TARGET);
        // INQUIRY with allocation length 255 but EDTL 255: the device returns 96 bytes -> underflow 159
        initiator.send(command(new byte[] {0x12, 0, 0, 0, (byte) 255, 0}, true, false, 255, null, true));
        DataIn inquiry = initiator.receive(DataIn.class);
        assertTrue(inquiry.underflow());
        assertEquals(255 - 96, inquiry.residualCount());
        inquiry.release();
        // READ(10) of 2 blocks with EDTL 512: 512 bytes sent, overflow of 512
        initiator.send(command(read10(0, 2), true, false, 512, null, true));
        DataIn read = initiator.receive(DataIn.class);
        assertTrue(read.overflow());
        assertEquals(512, read.residualCount());
        assertEquals(512, read.data().readableBytes());
        read.release();
    }

    @Test
    void checkConditionCarriesSenseAfterItsLength() {
        initiator.loginNormal(TARGET);
        initiator.send(command(new byte[] {(byte) 0xc0}, false, false, 0, null, true));
        ScsiResponsePdu response = initiator.receive(ScsiResponsePdu.class);
        assertEquals(2, response.status());
        ByteBuf data = response.data();
        assertEquals(18, data.getUnsignedShort(0), "§11.4.7 SenseLength");
        assertEquals(0x70, data.getUnsignedByte(2));
        assertEquals(0x05, data.getUnsignedByte(4), "ILLEGAL REQUEST");
        assertEquals(0x20, data.getUnsignedByte(14), "INVALID COMMAND OPERATION CODE");
        response.release();
    }

    @Test
    void writeGathersImmediateUnsolicitedAndSolicitedData() {
        initiator.loginNormal(TARGET, "InitialR2T=No", "ImmediateData=Yes", "FirstBurstLength=1024",
                "MaxBurstLength=1024", "MaxRecvDataSegmentLength=8192");
        byte[] payload = new byte[4096];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 7);
        }
        ScsiCommand write = command(write10(2, 8), false, true, 4096, Unpooled.wrappedBuffer(payload, 0, 512), false);
        int itt = write.itt();
        initiator.send(write);
        assertTrue(initiator.receiveAll().isEmpty(), "nothing until the unsolicited burst ends");
        initiator.send(new DataOut(true, 0, itt, IscsiPdu.RESERVED_TAG, initiator.expStatSn, 0, 512,
                Unpooled.wrappedBuffer(payload, 512, 512)));
        int offset = 1024;
        for (int r2tSn = 0; offset < 4096; r2tSn++) {
            ReadyToTransfer r2t = initiator.receive(ReadyToTransfer.class);
            assertEquals(r2tSn, r2t.r2tSn());
            assertEquals(offset, r2t.bufferOffset());
            assertEquals(1024, r2t.desiredLength(), "MaxBurstLength");
            initiator.send(new DataOut(false, 0, itt, r2t.ttt(), initiator.expStatSn, 0, offset,
                    Unpooled.wrappedBuffer(payload, offset, 512)));
            initiator.send(new DataOut(true, 0, itt, r2t.ttt(), initiator.expStatSn, 1, offset + 512,
                    Unpooled.wrappedBuffer(payload, offset + 512, 512)));
            offset += 1024;
        }
        ScsiResponsePdu response = initiator.receive(ScsiResponsePdu.class);
        assertEquals(0, response.status());
        assertEquals(3, response.expDataSn(), "three R2Ts were sent");
        assertArrayEquals(payload, Arrays.copyOfRange(tpg.disk.bytes, 2 * MemoryDisk.BLOCK_SIZE,
                2 * MemoryDisk.BLOCK_SIZE + 4096));
    }

    @Test
    void wrongBufferOffsetRejectsAndEndsOnlyThatCommand() {
        initiator.loginNormal(TARGET);
        ScsiCommand write = command(write10(0, 2), false, true, 1024, null, true);
        initiator.send(write);
        ReadyToTransfer r2t = initiator.receive(ReadyToTransfer.class);
        initiator.send(new DataOut(true, 0, write.itt(), r2t.ttt(), initiator.expStatSn, 0, 512,
                Unpooled.wrappedBuffer(new byte[512])));
        List<IscsiPdu> pdus = initiator.receiveAll();
        assertEquals(2, pdus.size(), pdus.toString());
        Reject reject = (Reject) pdus.get(0);
        assertEquals(Reject.PROTOCOL_ERROR, reject.reason());
        assertEquals(0x05, reject.data().getByte(0), "the rejected Data-Out header comes back");
        ScsiResponsePdu response = (ScsiResponsePdu) pdus.get(1);
        assertEquals(write.itt(), response.itt());
        assertEquals(2, response.status());
        assertEquals(0x0b, response.data().getByte(2 + 2), "ABORTED COMMAND");
        assertEquals(0x4b, response.data().getByte(2 + 12), "DATA PHASE ERROR");
        pdus.forEach(ReferenceCountUtil::release);
        assertTrue(initiator.target.isActive());
        initiator.send(command(new byte[] {0}, false, false, 0, null, true));
        assertEquals(0, initiator.receive(ScsiResponsePdu.class).status(), "the session goes on");
    }

    @Test
    void dataDigestErrorOnDataOutEndsTheCommand() {
        initiator.loginNormal(TARGET, "DataDigest=CRC32C");
        initiator.initiatorSettings.dataDigest(true);
        ScsiCommand write = command(write10(0, 1), false, true, 512, null, true);
        initiator.send(write);
        ReadyToTransfer r2t = initiator.receive(ReadyToTransfer.class);
        ByteBuf wire = initiator.encode(new DataOut(true, 0, write.itt(), r2t.ttt(), 0, 0, 0,
                Unpooled.wrappedBuffer(new byte[512])));
        wire.setByte(48 + 100, 1); // corrupt the data after the digest was computed
        initiator.sendBytes(wire);
        List<IscsiPdu> pdus = initiator.receiveAll();
        assertEquals(Reject.DATA_DIGEST_ERROR, ((Reject) pdus.get(0)).reason());
        ScsiResponsePdu response = (ScsiResponsePdu) pdus.get(1);
        assertEquals(0x47, response.data().getByte(2 + 12), "PROTOCOL SERVICE CRC ERROR");
        pdus.forEach(ReferenceCountUtil::release);
        assertTrue(initiator.target.isActive());
    }

    @Test
    void nopOutPingIsEchoed() {
        initiator.loginNormal(TARGET);
        initiator.send(new NopOut(true, 0, 0x77, IscsiPdu.RESERVED_TAG, initiator.cmdSn, initiator.expStatSn,
                Unpooled.copiedBuffer("are you there", StandardCharsets.US_ASCII)));
        NopIn pong = initiator.receive(NopIn.class);
        assertEquals(0x77, pong.itt());
        assertEquals(IscsiPdu.RESERVED_TAG, pong.ttt());
        assertEquals("are you there", pong.data().toString(StandardCharsets.US_ASCII));
        pong.release();
    }

    @Test
    void commandsRunInCmdSnOrderAndOutOfWindowOnesAreDropped() {
        initiator.loginNormal(TARGET);
        int sn = initiator.cmdSn;
        byte[] tur = new byte[16];
        byte[] inquiry = Arrays.copyOf(new byte[] {0x12, 0, 0, 0, 36, 0}, 16);
        initiator.send(new ScsiCommand(false, true, true, false, 1, 0, 11, 36, sn + 1, 0, inquiry, 0, null));
        assertTrue(initiator.receiveAll().isEmpty(), "CmdSN+1 waits for CmdSN");
        initiator.send(new ScsiCommand(false, true, false, false, 1, 0, 10, 0, sn, 0, tur, 0, null));
        List<IscsiPdu> pdus = initiator.receiveAll();
        assertEquals(2, pdus.size());
        assertEquals(10, pdus.get(0).itt());
        assertEquals(11, pdus.get(1).itt());
        assertEquals(List.of("00", "12"), core.sessions.get(0).log);
        pdus.forEach(ReferenceCountUtil::release);
        initiator.send(new ScsiCommand(false, true, false, false, 1, 0, 12, 0, sn + 1000, 0, tur, 0, null));
        initiator.send(new ScsiCommand(false, true, false, false, 1, 0, 13, 0, sn - 5, 0, tur, 0, null));
        assertTrue(initiator.receiveAll().isEmpty(), "outside [ExpCmdSN, MaxCmdSN]: silently ignored");
        assertTrue(initiator.target.isActive());
    }

    @Test
    void unknownOpcodeIsRejectedAndTheConnectionLives() {
        initiator.loginNormal(TARGET);
        ByteBuf bogus = Unpooled.buffer(48).writeByte(0x1d).writeZero(15).writeInt(0x99).writeZero(28);
        initiator.sendBytes(bogus);
        Reject reject = initiator.receive(Reject.class);
        assertEquals(Reject.COMMAND_NOT_SUPPORTED, reject.reason());
        assertEquals(0x1d, reject.data().getByte(0));
        reject.release();
        initiator.send(new NopOut(true, 0, 5, IscsiPdu.RESERVED_TAG, initiator.cmdSn, 0, null));
        initiator.receive(NopIn.class).release();
    }

    @Test
    void oversizedSegmentIsRejectedAndClosesTheConnection() {
        initiator.loginNormal(TARGET);
        ByteBuf header = Unpooled.buffer(48).writeByte(0x40).writeByte(0x80).writeShort(0).writeInt(1 << 20)
                .writeZero(8).writeInt(3).writeInt(-1).writeZero(24);
        initiator.sendBytes(header);
        Reject reject = initiator.receive(Reject.class);
        assertEquals(Reject.PROTOCOL_ERROR, reject.reason());
        reject.release();
        assertFalse(initiator.target.isActive());
    }

    @Test
    void sendTargetsListsAccessibleTargetsWithPortalAndTag() {
        core.addTarget("iqn.2026-11.org.jtarget:second", 3, new java.net.InetSocketAddress("127.0.0.1", 3261), 8);
        initiator.loginNormal(TARGET);
        initiator.send(new TextRequest(true, true, false, 0, 42, IscsiPdu.RESERVED_TAG, initiator.cmdSn, 0,
                text("SendTargets=All")));
        TextResponse all = initiator.receive(TextResponse.class);
        assertEquals("TargetName=" + TARGET + "\nTargetAddress=127.0.0.1:3260,1\n"
                + "TargetName=iqn.2026-11.org.jtarget:second\nTargetAddress=127.0.0.1:3261,3\n", text(all.data()));
        assertTrue(all.finalFlag());
        all.release();
        initiator.send(new TextRequest(true, true, false, 0, 43, IscsiPdu.RESERVED_TAG, initiator.cmdSn, 0,
                text("SendTargets=")));
        TextResponse own = initiator.receive(TextResponse.class);
        assertEquals("TargetName=" + TARGET + "\nTargetAddress=127.0.0.1:3260,1\n", text(own.data()));
        own.release();
    }

    @Test
    void discoverySessionRejectsScsiCommands() {
        LoginResponse response = initiator.login(true, 1, 3, "InitiatorName=" + TestInitiator.INITIATOR,
                "SessionType=Discovery");
        assertEquals(0, response.statusClass());
        assertTrue(response.tsih() != 0);
        response.release();
        initiator.send(command(new byte[] {0}, false, false, 0, null, true));
        Reject reject = initiator.receive(Reject.class);
        assertEquals(Reject.PROTOCOL_ERROR, reject.reason());
        reject.release();
        assertTrue(core.sessions.isEmpty(), "discovery opens no SCSI session");
    }

    @Test
    void abortTaskEndsAWriteWithoutAResponse() {
        initiator.loginNormal(TARGET);
        ScsiCommand write = command(write10(0, 1), false, true, 512, null, true);
        initiator.send(write);
        FakeScsiSession session = core.sessions.get(0);
        assertTrue(initiator.receiveAll().stream().allMatch(p -> p instanceof ReadyToTransfer));
        initiator.send(new TaskManagementRequest(true, 1, 0, 0x50, write.itt(), initiator.cmdSn, 0, write.cmdSn(), 0));
        TaskManagementResponsePdu tmf = initiator.receive(TaskManagementResponsePdu.class);
        assertEquals(0, tmf.response(), "FUNCTION COMPLETE");
        assertEquals(0x50, tmf.itt());
        assertTrue(session.inFlight.isEmpty());
        initiator.send(new DataOut(true, 0, write.itt(), 1, 0, 0, 0, Unpooled.wrappedBuffer(new byte[512])));
        assertTrue(initiator.receiveAll().isEmpty(), "late Data-Out for an aborted task is dropped");
    }

    @Test
    void abortTaskForACommandThatEndedIsTaskDoesNotExist() {
        initiator.loginNormal(TARGET);
        ScsiCommand read = command(read10(0, 1), true, false, 512, null, true);
        initiator.send(read);
        initiator.receiveAll().forEach(ReferenceCountUtil::release);
        // RFC 7143 §11.5.1 c): RefCmdSN already received and the task is gone (libiscsi AbortTaskSimpleAsync)
        initiator.send(new TaskManagementRequest(true, 1, 0, 0x51, read.itt(), initiator.cmdSn, 0, read.cmdSn(), 0));
        TaskManagementResponsePdu gone = initiator.receive(TaskManagementResponsePdu.class);
        assertEquals(1, gone.response(), "TASK DOES NOT EXIST");
        // and a RefCmdSN beyond MaxCmdSN is outside the window: TASK DOES NOT EXIST as well
        initiator.send(new TaskManagementRequest(true, 1, 0, 0x52, 0x7777, initiator.cmdSn + 1000, 0,
                initiator.cmdSn + 999, 0));
        TaskManagementResponsePdu outside = initiator.receive(TaskManagementResponsePdu.class);
        assertEquals(1, outside.response(), "TASK DOES NOT EXIST");
        assertEquals(0x52, outside.itt());
    }

    @Test
    void abortTaskForACommandNotYetReceivedIsFunctionCompleteAndItsCmdSnCountsAsReceived() {
        initiator.loginNormal(TARGET);
        ScsiCommand lost = command(read10(0, 1), true, false, 512, null, true); // CmdSN n, held back
        ScsiCommand next = command(read10(1, 1), true, false, 512, null, true); // CmdSN n + 1
        initiator.send(next);
        assertTrue(initiator.receiveAll().isEmpty(), "CmdSN n + 1 waits for n");
        // §11.5.1 b): RefCmdSN n is in the window and before the TMF's CmdSN: Function Complete
        initiator.send(new TaskManagementRequest(true, 1, 0, 0x53, lost.itt(), initiator.cmdSn, 0, lost.cmdSn(), 0));
        List<IscsiPdu> pdus = initiator.receiveAll();
        TaskManagementResponsePdu tmf = pdus.stream().filter(p -> p instanceof TaskManagementResponsePdu)
                .map(p -> (TaskManagementResponsePdu) p).findFirst().orElseThrow();
        assertEquals(0, tmf.response(), "FUNCTION COMPLETE");
        assertTrue(pdus.stream().anyMatch(p -> p instanceof DataIn d && d.itt() == next.itt()),
                "CmdSN n counts as received, so n + 1 runs: " + pdus);
        pdus.forEach(ReferenceCountUtil::release);
        initiator.send(lost);
        assertTrue(initiator.receiveAll().isEmpty(), "the aborted command arriving late is dropped");
    }

    @Test
    void unsolicitedDataOfACommandWaitingForItsCmdSnIsKeptUntilTheCommandRuns() {
        initiator.loginNormal(TARGET, "InitialR2T=No", "ImmediateData=No");
        ScsiCommand first = command(new byte[] {0}, false, false, 0, null, true); // CmdSN n, held back
        ScsiCommand write = command(write10(3, 1), false, true, 512, null, false); // CmdSN n + 1, F clear
        byte[] payload = new byte[512];
        Arrays.fill(payload, (byte) 0x5a);
        initiator.send(write);
        initiator.send(new DataOut(true, 0, write.itt(), IscsiPdu.RESERVED_TAG, initiator.expStatSn, 0, 0,
                Unpooled.wrappedBuffer(payload)));
        assertTrue(initiator.receiveAll().isEmpty(), "the write waits for CmdSN n, its data with it");
        initiator.send(first);
        List<IscsiPdu> pdus = initiator.receiveAll();
        assertEquals(2, pdus.size(), "TEST UNIT READY and the write both answered: " + pdus);
        ScsiResponsePdu response = (ScsiResponsePdu) pdus.get(1);
        assertEquals(write.itt(), response.itt());
        assertEquals(0, response.status());
        assertArrayEquals(payload, Arrays.copyOfRange(tpg.disk.bytes, 3 * MemoryDisk.BLOCK_SIZE,
                4 * MemoryDisk.BLOCK_SIZE));
        pdus.forEach(ReferenceCountUtil::release);
    }

    @Test
    void logoutAnswersAndClosesTheSession() {
        initiator.loginNormal(TARGET);
        initiator.send(new LogoutRequest(true, LogoutRequest.CLOSE_SESSION, 9, 1, initiator.cmdSn, 0));
        LogoutResponse response = initiator.receive(LogoutResponse.class);
        assertEquals(LogoutResponse.SUCCESS, response.response());
        assertEquals(9, response.itt());
        assertFalse(initiator.target.isActive());
        assertTrue(core.sessions.get(0).closed);
        assertEquals(0, registry.size());
    }

    @Test
    void newLoginWithTheSameIsidReinstatesTheSession() {
        initiator.loginNormal(TARGET);
        try (TestInitiator second = new TestInitiator(core, registry)) {
            second.loginNormal(TARGET);
            assertFalse(initiator.target.isActive(), "the old connection is closed");
            assertTrue(core.sessions.get(0).closed);
            assertFalse(core.sessions.get(1).closed);
            second.send(new NopOut(true, 0, 1, IscsiPdu.RESERVED_TAG, second.cmdSn, 0, null));
            second.receive(NopIn.class).release();
        }
    }

    @Test
    void unknownTargetFailsLoginWithNotFoundAndCloses() {
        LoginResponse response = initiator.login(true, 0, 1, "InitiatorName=" + TestInitiator.INITIATOR,
                "TargetName=iqn.2026-11.org.jtarget:missing", "AuthMethod=None");
        assertEquals(0x02, response.statusClass());
        assertEquals(0x03, response.statusDetail());
        response.release();
        assertFalse(initiator.target.isActive());
    }

    @Test
    void coreRefusingTheSessionFailsLogin() {
        tpg.refuseSessions = true;
        initiator.login(true, 0, 1, "InitiatorName=" + TestInitiator.INITIATOR, "TargetName=" + TARGET,
                "AuthMethod=None").release();
        LoginResponse response = initiator.login(true, 1, 3);
        assertEquals(0x0202, response.statusClass() << 8 | response.statusDetail());
        response.release();
        assertFalse(initiator.target.isActive());
    }

    @Test
    void digestsApplyAfterTheFinalLoginResponse() {
        String answer = initiator.loginNormal(TARGET, "HeaderDigest=CRC32C", "DataDigest=CRC32C");
        assertTrue(answer.contains("HeaderDigest=CRC32C") && answer.contains("DataDigest=CRC32C"), answer);
        assertTrue(initiator.targetSettings.headerDigest() && initiator.targetSettings.dataDigest());
        initiator.initiatorSettings.headerDigest(true);
        initiator.initiatorSettings.dataDigest(true);
        initiator.send(new NopOut(true, 0, 3, IscsiPdu.RESERVED_TAG, initiator.cmdSn, 0,
                Unpooled.copiedBuffer("digested", StandardCharsets.US_ASCII)));
        NopIn pong = initiator.receive(NopIn.class);
        assertEquals("digested", pong.data().toString(StandardCharsets.US_ASCII));
        pong.release();
    }

    @Test
    void pduBeforeLoginClosesTheConnection() {
        initiator.send(new NopOut(true, 0, 1, IscsiPdu.RESERVED_TAG, 1, 0, null));
        assertFalse(initiator.target.isActive());
    }

    @Test
    void loginWithAnUnknownTsihSaysSessionDoesNotExist() {
        initiator.send(new LoginRequest(true, false, 0, 1, 0, 0, TestInitiator.ISID, 77, 1, 1, 1, 0,
                text("InitiatorName=" + TestInitiator.INITIATOR, "TargetName=" + TARGET)));
        LoginResponse response = initiator.receive(LoginResponse.class);
        assertEquals(0x020a, response.statusClass() << 8 | response.statusDetail());
        response.release();
        assertFalse(initiator.target.isActive());
    }

    @Test
    void idleInitiatorIsPingedThenDropped() {
        initiator.loginNormal(TARGET);
        initiator.target.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        NopIn ping = initiator.receive(NopIn.class);
        assertEquals(IscsiPdu.RESERVED_TAG, ping.itt());
        assertTrue(ping.ttt() != IscsiPdu.RESERVED_TAG, "a target ping carries a TTT to answer");
        assertEquals(initiator.expStatSn, ping.statSn(), "a ping does not advance StatSN");
        ping.release();
        initiator.send(new NopOut(true, 0, IscsiPdu.RESERVED_TAG, ping.ttt(), initiator.cmdSn, 0, null));
        // answered: the count starts again; silent periods are pinged until the last one closes
        for (int period = 1; period < IscsiConnection.IDLE_PERIODS_BEFORE_CLOSE; period++) {
            initiator.target.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
            initiator.receive(NopIn.class).release();
            assertTrue(initiator.target.isActive(), "still open after idle period " + period);
        }
        initiator.target.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        assertFalse(initiator.target.isActive(), "no PDU for " + IscsiConnection.IDLE_PERIODS_BEFORE_CLOSE
                + " idle periods: closed");
    }

    @Test
    void stalledLoginIsDropped() {
        initiator.target.pipeline().fireUserEventTriggered(IdleStateEvent.READER_IDLE_STATE_EVENT);
        assertFalse(initiator.target.isActive());
    }

    @Test
    void earlyCheckConditionOnAWriteDropsItsLaterUnsolicitedData() {
        initiator.loginNormal(TARGET, "InitialR2T=No", "ImmediateData=Yes");
        ScsiCommand write = command(write10(1000, 2), false, true, 1024, Unpooled.wrappedBuffer(new byte[512]),
                false); // beyond the 64-block disk
        initiator.send(write);
        ScsiResponsePdu response = initiator.receive(ScsiResponsePdu.class);
        assertEquals(2, response.status());
        assertEquals(0x21, response.data().getUnsignedByte(2 + 12), "LBA OUT OF RANGE");
        response.release();
        initiator.send(new DataOut(true, 0, write.itt(), IscsiPdu.RESERVED_TAG, 0, 0, 512,
                Unpooled.wrappedBuffer(new byte[512])));
        assertTrue(initiator.receiveAll().isEmpty());
        assertTrue(initiator.target.isActive());
    }

    @Test
    void severalOutstandingR2tsAreAssembledByOffset() {
        tpg.parameters.put("MaxOutstandingR2T", "2");
        initiator.loginNormal(TARGET, "MaxOutstandingR2T=4", "MaxBurstLength=1024", "ImmediateData=No");
        byte[] payload = new byte[3072];
        new java.util.Random(3).nextBytes(payload);
        ScsiCommand write = command(write10(10, 6), false, true, 3072, null, true);
        initiator.send(write);
        List<IscsiPdu> r2ts = initiator.receiveAll();
        assertEquals(2, r2ts.size(), "MaxOutstandingR2T=2: " + r2ts);
        ReadyToTransfer first = (ReadyToTransfer) r2ts.get(0);
        ReadyToTransfer second = (ReadyToTransfer) r2ts.get(1);
        assertEquals(1024, second.bufferOffset());
        initiator.send(new DataOut(true, 0, write.itt(), second.ttt(), 0, 0, 1024,
                Unpooled.wrappedBuffer(payload, 1024, 1024)));
        ReadyToTransfer third = initiator.receive(ReadyToTransfer.class);
        assertEquals(2048, third.bufferOffset());
        assertEquals(2, third.r2tSn());
        initiator.send(new DataOut(true, 0, write.itt(), third.ttt(), 0, 0, 2048,
                Unpooled.wrappedBuffer(payload, 2048, 1024)));
        initiator.send(new DataOut(true, 0, write.itt(), first.ttt(), 0, 0, 0, Unpooled.wrappedBuffer(payload, 0, 1024)));
        assertEquals(0, initiator.receive(ScsiResponsePdu.class).status());
        assertArrayEquals(payload, Arrays.copyOfRange(tpg.disk.bytes, 10 * 512, 10 * 512 + 3072));
    }

    @Test
    void longTextAnswerIsSplitWithContinuation() {
        for (int i = 0; i < 40; i++) {
            core.addTarget("iqn.2026-11.org.jtarget:many-" + i, 1, TestInitiator.PORTAL, 1);
        }
        initiator.loginNormal(TARGET, "MaxRecvDataSegmentLength=512");
        initiator.send(new TextRequest(true, true, false, 0, 60, IscsiPdu.RESERVED_TAG, initiator.cmdSn, 0,
                text("SendTargets=All")));
        StringBuilder all = new StringBuilder();
        TextResponse part = initiator.receive(TextResponse.class);
        int parts = 1;
        while (part.continueFlag()) {
            assertFalse(part.finalFlag());
            assertEquals(512, part.data().readableBytes());
            all.append(text(part.data()));
            int ttt = part.ttt();
            part.release();
            initiator.send(new TextRequest(true, true, false, 0, 60, ttt, initiator.cmdSn, 0, null));
            part = initiator.receive(TextResponse.class);
            parts++;
        }
        assertTrue(part.finalFlag());
        all.append(text(part.data()));
        part.release();
        assertTrue(parts > 1);
        assertTrue(all.toString().contains("TargetName=iqn.2026-11.org.jtarget:many-39\nTargetAddress=127.0.0.1:3260,1\n"),
                all.toString());
    }

    /**
     * The core ends a session from its own thread (FabricSession.close: a reinstating login, §6.3.5, or the
     * target's removal) while PDUs of it are still read on its event loop, before the channel has closed: they
     * are dropped. Before, the SCSI Command was answered TARGET FAILURE (a NullPointerException on the ended
     * session, logged with its stack), as the network fuzzer saw once in a few thousand connections.
     */
    @Test
    void commandsReadWhileTheCoreEndsTheSessionAreDropped() {
        initiator.loginNormal(TARGET);
        initiator.target.pipeline().addFirst(new io.netty.channel.ChannelOutboundHandlerAdapter() {
            private boolean held;

            @Override
            public void close(io.netty.channel.ChannelHandlerContext ctx, io.netty.channel.ChannelPromise promise) {
                if (held) {
                    ctx.close(promise);
                }
                held = true; // the first close waits, as it would on the connection's event loop
            }
        });
        core.sessions.get(0).fabricSession.close();
        initiator.send(command(new byte[] {0}, false, false, 0, null, true));
        List<IscsiPdu> answers = initiator.receiveAll();
        answers.forEach(ReferenceCountUtil::release);
        assertEquals(List.of(), answers, "answers from a session the core ended");
    }
}
