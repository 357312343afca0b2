package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/** Login Response (RFC 7143 §11.13); status class and detail as in §11.13.5. */
public record LoginResponse(boolean transit, boolean continueFlag, int csg, int nsg, int versionMax,
                            int versionActive, long isid, int tsih, int itt, int statSn, int expCmdSn, int maxCmdSn,
                            int statusClass, int statusDetail, ByteBuf data) implements DataPdu {
    public LoginResponse {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.LOGIN_RESPONSE;
    }

    @Override
    public LoginResponse replace(ByteBuf content) {
        return new LoginResponse(transit, continueFlag, csg, nsg, versionMax, versionActive, isid, tsih, itt, statSn,
                expCmdSn, maxCmdSn, statusClass, statusDetail, content);
    }
}
