package org.jtarget.iscsi.internal.fuzz;

import io.netty.buffer.ByteBuf;
import org.jtarget.iscsi.internal.pdu.AsyncMessage;
import org.jtarget.iscsi.internal.pdu.DataIn;
import org.jtarget.iscsi.internal.pdu.DataOut;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.pdu.LogoutRequest;
import org.jtarget.iscsi.internal.pdu.LogoutResponse;
import org.jtarget.iscsi.internal.pdu.NopIn;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.pdu.Opcode;
import org.jtarget.iscsi.internal.pdu.ReadyToTransfer;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.pdu.SnackRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementResponsePdu;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.iscsi.internal.pdu.TextResponse;

/**
 * A PDU of any opcode (RFC 7143 §11) with random field values, as plain data; {@link #build}
 * makes the PDU with its data segment from a given allocator.
 */
record PduSpec(Opcode opcode, int[] f, long lun, byte[] data, byte[] cdb) {
    static final int FIELDS = 12;

    static PduSpec any(Gen g) {
        int[] fields = g.ints(FIELDS, () -> g.bool() ? g.anyInt() : g.between(-1, 300));
        byte[] data = g.bool() ? g.bytes(0, 70) : g.bytes(60, 1100);
        return new PduSpec(g.pick(Opcode.class), fields, g.anyLong(), data, g.bytes(16, 40));
    }

    IscsiPdu build(ByteBuf buffer) {
        boolean b0 = (f[0] & 1) != 0;
        boolean b1 = (f[0] & 2) != 0;
        boolean b2 = (f[0] & 4) != 0;
        boolean b3 = (f[0] & 8) != 0;
        boolean b4 = (f[0] & 16) != 0;
        int small = f[1] & 0xff;
        int itt = f[2];
        ByteBuf d = buffer;
        switch (opcode) {
            case NOP_OUT:
                return new NopOut(b0, lun, itt, f[3], f[4], f[5], d);
            case SCSI_COMMAND:
                // without the W bit the decoder refuses immediate data (§11.3.1): keep the round trip exact
                return new ScsiCommand(b0, b1, b2, b3 || d.isReadable(), small & 7, lun, itt, f[3], f[4], f[5],
                        cdb, b4 ? f[6] | 1 : 0, d);
            case TASK_MANAGEMENT_REQUEST:
                d.release();
                return new TaskManagementRequest(b0, small & 0x7f, lun, itt, f[3], f[4], f[5], f[6], f[7]);
            case LOGIN_REQUEST:
                return new LoginRequest(b0, b1, small & 3, (small >> 2) & 3, f[3] & 0xff, f[4] & 0xff,
                        lun & 0xffffffffffffL, f[5] & 0xffff, itt, f[6] & 0xffff, f[7], f[8], d);
            case TEXT_REQUEST:
                return new TextRequest(b0, b1, b2, lun, itt, f[3], f[4], f[5], d);
            case DATA_OUT:
                return new DataOut(b0, lun, itt, f[3], f[4], f[5], f[6], d);
            case LOGOUT_REQUEST:
                d.release();
                return new LogoutRequest(b0, small & 0x7f, itt, f[3] & 0xffff, f[4], f[5]);
            case SNACK_REQUEST:
                d.release();
                return new SnackRequest(small & 0x0f, lun, itt, f[3], f[4], f[5], f[6]);
            case NOP_IN:
                return new NopIn(lun, itt, f[3], f[4], f[5], f[6], d);
            case SCSI_RESPONSE:
                return new ScsiResponsePdu(b0, b1, b2, b3, small, f[3] & 0xff, itt, f[4], f[5], f[6], f[7], f[8],
                        f[9], f[10], d);
            case TASK_MANAGEMENT_RESPONSE:
                d.release();
                return new TaskManagementResponsePdu(small, itt, f[3], f[4], f[5]);
            case LOGIN_RESPONSE:
                return new LoginResponse(b0, b1, small & 3, (small >> 2) & 3, f[3] & 0xff, f[4] & 0xff,
                        lun & 0xffffffffffffL, f[5] & 0xffff, itt, f[6], f[7], f[8], f[9] & 0xff, f[10] & 0xff, d);
            case TEXT_RESPONSE:
                return new TextResponse(b0, b1, lun, itt, f[3], f[4], f[5], f[6], d);
            case DATA_IN:
                return new DataIn(b0, b1, b2, b3, b4, b4 ? f[3] & 0xff : 0, lun, itt, f[4], f[5], f[6], f[7], f[8], f[9],
                        f[10], d);
            case LOGOUT_RESPONSE:
                d.release();
                return new LogoutResponse(small, itt, f[3], f[4], f[5], f[6] & 0xffff, f[7] & 0xffff);
            case R2T:
                d.release();
                return new ReadyToTransfer(lun, itt, f[3], f[4], f[5], f[6], f[7], f[8], f[9]);
            case ASYNC_MESSAGE:
                return new AsyncMessage(lun, f[3], f[4], f[5], small, f[6] & 0xff, f[7] & 0xffff, f[8] & 0xffff,
                        f[9] & 0xffff, d);
            case REJECT:
                return new Reject(small, f[3], f[4], f[5], f[6], d);
            default:
                throw new AssertionError(opcode);
        }
    }
}
