package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;

/**
 * Login Request (RFC 7143 §11.12). Stages (CSG/NSG): 0 security, 1 operational, 3 full feature phase.
 * {@code isid} is the 6-byte ISID in the low bits of a long.
 */
public record LoginRequest(boolean transit, boolean continueFlag, int csg, int nsg, int versionMax, int versionMin,
                           long isid, int tsih, int itt, int cid, int cmdSn, int expStatSn, ByteBuf data)
        implements DataPdu {
    public LoginRequest {
        data = DataPdu.orEmpty(data);
    }

    @Override
    public Opcode opcode() {
        return Opcode.LOGIN_REQUEST;
    }

    /** Login requests are always immediate (§11.12: the I bit is always 1). */
    @Override
    public boolean immediate() {
        return true;
    }

    @Override
    public LoginRequest replace(ByteBuf content) {
        return new LoginRequest(transit, continueFlag, csg, nsg, versionMax, versionMin, isid, tsih, itt, cid, cmdSn,
                expStatSn, content);
    }
}
