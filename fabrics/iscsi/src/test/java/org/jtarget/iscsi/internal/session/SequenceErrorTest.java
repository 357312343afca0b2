package org.jtarget.iscsi.internal.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ReferenceCountUtil;
import java.util.Arrays;
import java.util.List;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.ReadyToTransfer;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementResponsePdu;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.iscsi.internal.testing.TestInitiator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Data-Out with a DataSN out of order at ErrorRecoveryLevel 0 (what libiscsi's iSCSIDataSnInvalid sends):
 * an implied digest error (RFC 7143 §7.9) that ERL 0 cannot recover (§7.8 b). The PDU is not rejected
 * (initiators end the task at a Reject and then meet its response as unsolicited, §7.4); the command ends
 * with CHECK CONDITION, ABORTED COMMAND, PROTOCOL SERVICE CRC ERROR once the initiator sent the last
 * Data-Out of the sequence (F bit); nothing is written and the session goes on.
 */
class SequenceErrorTest {
    private static final String TARGET = "iqn.2026-11.org.jtarget:unit";
    private final FakeTargetCore core = new FakeTargetCore();
    private final FakeTargetCore.FakeTpg tpg = core.addTarget(TARGET, 1, TestInitiator.PORTAL, 256);
    private final TestInitiator initiator = new TestInitiator(core, new SessionRegistry());

    @AfterEach
    void close() {
        initiator.close();
    }

    /** WRITE(10) at LBA 100 with no immediate data, F bit clear when unsolicited Data-Out follows. */
    private ScsiCommand write(int blocks, boolean unsolicitedFollows) {
        byte[] cdb = new byte[16];
        cdb[0] = 0x2a;
        cdb[5] = 100;
        cdb[8] = (byte) blocks;
        return new ScsiCommand(false, !unsolicitedFollows, false, true, 1, 0, initiator.nextItt(), blocks * 512,
                initiator.cmdSn++, initiator.expStatSn, cdb, 0, null);
    }

    private static ByteBuf block() {
        byte[] b = new byte[512];
        Arrays.fill(b, (byte) 0xa6);
        return Unpooled.wrappedBuffer(b);
    }

    private void assertCrcErrorAndNothingWritten(ScsiCommand write, List<IscsiPdu> pdus) {
        try {
            assertEquals(1, pdus.size(), () -> "only the SCSI Response, no Reject: " + pdus);
            ScsiResponsePdu response = (ScsiResponsePdu) pdus.get(0);
            assertEquals(write.itt(), response.itt());
            assertEquals(2, response.status(), "CHECK CONDITION");
            assertEquals(0x0b, response.data().getByte(2 + 2), "ABORTED COMMAND");
            assertEquals(0x47, response.data().getByte(2 + 12), "PROTOCOL SERVICE CRC ERROR");
            assertEquals(0x05, response.data().getByte(2 + 13));
        } finally {
            pdus.forEach(ReferenceCountUtil::release);
        }
        assertNothingWrittenAndTheSessionGoesOn();
    }

    private void assertNothingWrittenAndTheSessionGoesOn() {
        assertEquals(0, tpg.disk.bytes[100 * 512], "nothing written");
        initiator.send(new ScsiCommand(false, true, false, false, 1, 0, initiator.nextItt(), 0, initiator.cmdSn++,
                initiator.expStatSn, new byte[16], 0, null));
        assertEquals(0, initiator.receive(ScsiResponsePdu.class).status(), "the session goes on");
        assertTrue(initiator.target.isActive());
    }

    @Test
    void repeatedDataSnEndsTheCommandAtTheFinalDataOut() {
        initiator.loginNormal(TARGET, "InitialR2T=No", "ImmediateData=No");
        ScsiCommand write = write(2, true);
        initiator.send(write);
        initiator.send(new DataOut(false, 0, write.itt(), IscsiPdu.RESERVED_TAG, 0, 0, 0, block()));
        initiator.send(new DataOut(true, 0, write.itt(), IscsiPdu.RESERVED_TAG, 0, 0, 512, block()));
        assertCrcErrorAndNothingWritten(write, initiator.receiveAll());
    }

    @Test
    void dataSnAheadOnTheLastDataOutEndsTheCommandAtOnce() {
        for (int dataSn : new int[] {27, -1}) {
            initiator.close();
            TestInitiator fresh = new TestInitiator(core, new SessionRegistry());
            fresh.loginNormal(TARGET, "InitialR2T=Yes", "ImmediateData=No");
            byte[] cdb = new byte[16];
            cdb[0] = 0x2a;
            cdb[5] = 100;
            cdb[8] = 1;
            ScsiCommand write = new ScsiCommand(false, true, false, true, 1, 0, fresh.nextItt(), 512, fresh.cmdSn++,
                    fresh.expStatSn, cdb, 0, null);
            fresh.send(write);
            ReadyToTransfer r2t = fresh.receive(ReadyToTransfer.class);
            fresh.send(new DataOut(true, 0, write.itt(), r2t.ttt(), 0, dataSn, 0, block()));
            List<IscsiPdu> pdus = fresh.receiveAll();
            assertEquals(1, pdus.size(), () -> "DataSN " + dataSn + ": " + pdus);
            ScsiResponsePdu response = (ScsiResponsePdu) pdus.get(0);
            assertEquals(0x47, response.data().getByte(2 + 12), "PROTOCOL SERVICE CRC ERROR");
            response.release();
            assertEquals(0, tpg.disk.bytes[100 * 512], "nothing written");
            fresh.close();
        }
    }

    private ReadyToTransfer r2tOf;

    /** A 2-block WRITE whose solicited burst starts with {@code dataSn} instead of 0, F bit clear: no answer yet. */
    private ScsiCommand writeWithFirstDataSn(int dataSn) {
        initiator.loginNormal(TARGET, "InitialR2T=Yes", "ImmediateData=No");
        ScsiCommand write = write(2, false);
        initiator.send(write);
        r2tOf = initiator.receive(ReadyToTransfer.class);
        initiator.send(new DataOut(false, 0, write.itt(), r2tOf.ttt(), 0, dataSn, 0, block()));
        assertTrue(initiator.receiveAll().isEmpty(), "§7.8 b: no response before the burst's last Data-Out");
        return write;
    }

    @Test
    void swappedDataSnsWaitForTheLastDataOutOfTheBurst() {
        ScsiCommand write = writeWithFirstDataSn(1);
        ReadyToTransfer r2t = r2tOf;
        initiator.send(new DataOut(true, 0, write.itt(), r2t.ttt(), 0, 0, 512, block()));
        assertCrcErrorAndNothingWritten(write, initiator.receiveAll());
    }

    @Test
    void abortTaskConcludesTheWaitForTheLastDataOut() {
        ScsiCommand write = writeWithFirstDataSn(7);
        ReadyToTransfer r2t = r2tOf;
        initiator.send(new TaskManagementRequest(true, 1, 0, initiator.nextItt(), write.itt(), initiator.cmdSn,
                initiator.expStatSn, write.cmdSn(), 0)); // ABORT TASK
        TaskManagementResponsePdu tmf = initiator.receive(TaskManagementResponsePdu.class);
        assertEquals(0, tmf.response(), "Function Complete (§7.8 b: the TMF concludes the task)");
        initiator.send(new DataOut(true, 0, write.itt(), r2t.ttt(), 0, 1, 512, block()));
        assertTrue(initiator.receiveAll().isEmpty(), "an aborted task sends no SCSI Response");
        assertNothingWrittenAndTheSessionGoesOn();
    }

    @Test
    void logicalUnitResetConcludesTheWaitAndTheWindowIsWholeAgain() {
        // Found by the fuzz suite: the core had answered the command already, so a LU RESET aborted nothing
        // and the task stayed, holding one CmdSN of the window for good.
        ScsiCommand write = writeWithFirstDataSn(7);
        initiator.send(new TaskManagementRequest(true, 5, 0, initiator.nextItt(), IscsiPdu.RESERVED_TAG,
                initiator.cmdSn, initiator.expStatSn, write.cmdSn(), 0)); // LOGICAL UNIT RESET
        TaskManagementResponsePdu tmf = initiator.receive(TaskManagementResponsePdu.class);
        assertEquals(0, tmf.response());
        assertEquals(IscsiConnection.WINDOW, tmf.maxCmdSn() - tmf.expCmdSn() + 1, "the whole CmdSN window");
        initiator.send(new DataOut(true, 0, write.itt(), r2tOf.ttt(), 0, 1, 512, block()));
        assertTrue(initiator.receiveAll().isEmpty(), "a concluded task sends no SCSI Response");
    }
}
