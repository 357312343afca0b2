package org.jtarget.iscsi.internal.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.Unpooled;
import org.jtarget.iscsi.internal.pdu.DataIn;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.ReadyToTransfer;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.testing.FakeTargetCore;
import org.jtarget.iscsi.internal.testing.TestInitiator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The residual rows of docs/conformance.md "Residuals" as the fabric reports them (RFC 7143 §11.4.5): reads
 * send at most EDTL bytes, overflow (O) = what the command had minus EDTL, underflow (U) = EDTL minus what it
 * had; for writes and CHECK CONDITION the core's transfer length against EDTL. (Which writes are refused is
 * the core's decision, tested in bundles/core DataOutLengthTest.)
 */
class ResidualTest {
    private static final String TARGET = "iqn.2026-11.org.jtarget:unit";
    private final FakeTargetCore core = new FakeTargetCore();
    private final TestInitiator initiator = new TestInitiator(core, new SessionRegistry());

    {
        core.addTarget(TARGET, 1, TestInitiator.PORTAL, 64);
    }

    @BeforeEach
    void login() {
        initiator.loginNormal(TARGET, "InitialR2T=Yes", "ImmediateData=No");
    }

    @AfterEach
    void close() {
        initiator.close();
    }

    private ScsiCommand command(int opcode, int lba, int blocks, boolean read, boolean write, int edtl) {
        byte[] cdb = new byte[16];
        cdb[0] = (byte) opcode;
        cdb[5] = (byte) lba;
        cdb[8] = (byte) blocks;
        return new ScsiCommand(false, true, read, write, 1, 0, initiator.nextItt(), edtl, initiator.cmdSn++,
                initiator.expStatSn, cdb, 0, null);
    }

    private DataIn read(int blocks, int edtl) {
        initiator.send(command(0x28, 0, blocks, true, false, edtl));
        return initiator.receive(DataIn.class);
    }

    @Test
    void readOverflowSendsOnlyEdtlBytes() {
        DataIn partial = read(1, 200);
        assertEquals(200, partial.data().readableBytes());
        assertTrue(partial.statusPresent() && partial.overflow() && !partial.underflow());
        assertEquals(312, partial.residualCount());
        partial.release();
    }

    @Test
    void readWithEdtlZeroSendsNothingAndReportsOverflow() {
        initiator.send(command(0x28, 0, 1, true, false, 0));
        ScsiResponsePdu response = initiator.receive(ScsiResponsePdu.class);
        assertEquals(0, response.status(), "GOOD");
        assertTrue(response.overflow() && !response.underflow());
        assertEquals(512, response.residualCount());
        response.release();
    }

    @Test
    void readUnderflowSendsWhatTheCommandHas() {
        DataIn whole = read(1, 10000);
        assertEquals(512, whole.data().readableBytes());
        assertTrue(whole.underflow() && !whole.overflow());
        assertEquals(10000 - 512, whole.residualCount());
        whole.release();
    }

    @Test
    void exactReadHasNoResidual() {
        DataIn exact = read(2, 1024);
        assertFalse(exact.underflow() || exact.overflow());
        exact.release();
    }

    @Test
    void commandWithoutDataReportsTheWholeEdtlAsUnderflow() {
        for (boolean read : new boolean[] {true, false}) { // TEST UNIT READY with the R or the W bit
            initiator.send(command(0x00, 0, 0, read, !read, 512));
            ScsiResponsePdu response = initiator.receive(ScsiResponsePdu.class);
            assertEquals(0, response.status());
            assertTrue(response.underflow() && !response.overflow(), () -> "R bit " + read);
            assertEquals(512, response.residualCount());
            response.release();
        }
    }

    /** WRITE(10) of {@code blocks} at LBA 3 with EDTL {@code edtl}: R2T for exactly EDTL, then the response. */
    private ScsiResponsePdu write(int blocks, int edtl) {
        ScsiCommand write = command(0x2a, 3, blocks, false, true, edtl);
        initiator.send(write);
        ReadyToTransfer r2t = initiator.receive(ReadyToTransfer.class);
        assertEquals(edtl, r2t.desiredLength(), "the fabric asks for EDTL, never beyond");
        initiator.send(new DataOut(true, 0, write.itt(), r2t.ttt(), 0, 0, 0, Unpooled.wrappedBuffer(new byte[edtl])));
        return initiator.receive(ScsiResponsePdu.class);
    }

    @Test
    void writeUnderflowAndOverflowAreReportedInTheResponse() {
        ScsiResponsePdu under = write(1, 1024); // the core writes the CDB's 512 bytes
        assertEquals(0, under.status());
        assertTrue(under.underflow() && !under.overflow());
        assertEquals(512, under.residualCount());
        under.release();
        ScsiResponsePdu over = write(2, 512);
        assertEquals(0, over.status());
        assertTrue(over.overflow() && !over.underflow());
        assertEquals(512, over.residualCount());
        over.release();
    }

    @Test
    void checkConditionOfAWriteCarriesItsResidual() {
        // the fake answers LBA OUT OF RANGE with the CDB's length, as the core answers a refused EDTL:
        // CHECK CONDITION, no R2T, overflow 512 - 200 (what libiscsi's Write10Residuals checks)
        initiator.send(command(0x2a, 200, 1, false, true, 200));
        ScsiResponsePdu response = initiator.receive(ScsiResponsePdu.class); // the only PDU: no R2T
        assertEquals(2, response.status());
        assertTrue(response.overflow() && !response.underflow());
        assertEquals(312, response.residualCount());
        response.release();
    }
}
