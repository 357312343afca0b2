package org.jtarget.core.internal.alua;

import static org.jtarget.core.internal.cmd.OpcodeDescriptor.RESERVATION_EXEMPT;
import static org.jtarget.core.internal.cmd.OpcodeDescriptor.usage;

import io.netty.buffer.ByteBuf;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;
import org.jtarget.core.internal.cmd.Cdb;
import org.jtarget.core.internal.cmd.Command;
import org.jtarget.core.internal.cmd.OpcodeDescriptor;
import org.jtarget.core.internal.cmd.ParsedCommand;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.scsi.ScsiLogicalUnit;
import org.jtarget.core.internal.sense.Sense;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.fabric.ScsiResponse;

/** REPORT TARGET PORT GROUPS (SPC-4 6.37) and SET TARGET PORT GROUPS (SPC-4 6.46). */
public final class TargetPortGroupCommands {
    private TargetPortGroupCommands() {
    }

    public static List<OpcodeDescriptor> descriptors() {
        return List.of(
                new OpcodeDescriptor("REPORT TARGET PORT GROUPS", AccessStates.MAINTENANCE_IN,
                        AccessStates.SA_TARGET_PORT_GROUPS,
                        usage(0xA3, 0xEA, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0), RESERVATION_EXEMPT,
                        TargetPortGroupCommands::parseReport, TargetPortGroupCommands::report, lu -> true),
                new OpcodeDescriptor("SET TARGET PORT GROUPS", AccessStates.MAINTENANCE_OUT,
                        AccessStates.SA_TARGET_PORT_GROUPS,
                        usage(0xA4, 0x0A, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0), 0,
                        TargetPortGroupCommands::parseSet, TargetPortGroupCommands::set, lu -> true));
    }

    /** PARAMETER DATA FORMAT (byte 1 bits 7-5): 000b length only, 001b extended header; ALLOCATION LENGTH bytes 6-9. */
    static ParsedCommand parseReport(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        int format = cdb.u8(1) >>> 5;
        if (format > 1) {
            throw Sense.invalidCdbField(1, 7).exception();
        }
        return ParsedCommand.control(cdb, d, 0, (int) Math.min(cdb.u32(6), Integer.MAX_VALUE));
    }

    /** PARAMETER LIST LENGTH bytes 6-9: a 4-byte header, then 4-byte descriptors. */
    static ParsedCommand parseSet(Cdb cdb, OpcodeDescriptor d, ScsiLogicalUnit lu) {
        long length = cdb.u32(6);
        if (length != 0 && (length < 4 || length % 4 != 0 || length > 4 + 4 * 0x10000L)) {
            throw Sense.of(SenseReason.PARAMETER_LIST_LENGTH_ERROR).exception();
        }
        return ParsedCommand.control(cdb, d, (int) length, 0);
    }

    static CompletionStage<ScsiResponse> report(Command c) {
        boolean extended = (c.cdb().u8(1) >>> 5) == 1;
        ScsiLogicalUnit lu = c.lu();
        ByteBuf buf = Command.allocate(64);
        try {
            report(buf, lu.alua(), extended);
        } catch (RuntimeException e) {
            buf.release();
            throw e;
        }
        return c.respond(buf);
    }

    /**
     * The parameter data: RETURN DATA LENGTH (the bytes that follow it), with the
     * extended header FORMAT TYPE 001b and IMPLICIT TRANSITION TIME; then one target port group descriptor per
     * group (PREF, ASYMMETRIC ACCESS STATE, supported states, TARGET PORT GROUP, STATUS CODE, TARGET PORT COUNT
     * and the relative target port identifiers of its ports).
     */
    public static void report(ByteBuf b, AluaGroups alua, boolean extended) {
        int start = b.writerIndex();
        b.writeInt(0);
        if (extended) {
            b.writeByte(0x10).writeByte(alua.transitionSeconds()).writeShort(0); // FORMAT TYPE 001b
        }
        for (AluaGroup g : alua.groups()) {
            List<Integer> ports = alua.relativePortIds(g.name());
            b.writeByte((g.preferred() ? 0x80 : 0) | g.state().code());
            b.writeByte(AluaState.SUPPORTED_BITS);
            b.writeShort(g.id());
            b.writeByte(0);
            b.writeByte(g.status());
            b.writeByte(0); // vendor specific
            b.writeByte(Math.min(ports.size(), 0xFF));
            for (int i = 0; i < Math.min(ports.size(), 0xFF); i++) {
                b.writeShort(0).writeShort(ports.get(i));
            }
        }
        // (n - 3): every byte after the field, the extended header included (SPC-4 table 306; sg_rtpg and Linux's
        // scsi_dh_alua read RETURN DATA LENGTH + 4 bytes and the descriptors from byte 8 in that format)
        b.setInt(start, b.writerIndex() - start - 4);
    }

    /** A state change SET TARGET PORT GROUPS asks for. */
    private record Change(AluaGroup group, AluaState state) {
    }

    /**
     * Checks every descriptor, then changes the groups (all or none). Refused with INVALID COMMAND OPERATION CODE
     * when the group of the port the command came through supports only implicit transitions (as LIO); with
     * INVALID FIELD IN PARAMETER LIST for a state that cannot be set (offline, a secondary state; transitioning;
     * LBA dependent; reserved codes), an unknown group, or a group that supports only implicit transitions.
     */
    static CompletionStage<ScsiResponse> set(Command c) {
        ScsiLogicalUnit lu = c.lu();
        AluaGroups alua = lu.alua();
        NexusInfo info = c.nexus().info();
        if (!alua.groupOf(info.targetName(), info.tpgTag()).mode().explicit()) {
            throw Sense.of(SenseReason.INVALID_COMMAND_OPERATION_CODE).exception();
        }
        ByteBuf data = c.dataOut();
        int length = data == null ? 0 : Math.min(c.dataOutLength(), data.readableBytes());
        List<Change> changes = new ArrayList<>();
        for (int off = 4; off + 4 <= length; off += 4) {
            int at = data.readerIndex() + off;
            AluaState state = AluaState.ofCode(data.getByte(at) & 0x0F);
            if (state == null || state == AluaState.TRANSITIONING || state == AluaState.OFFLINE) {
                throw Sense.invalidParameterField(off, 3).exception();
            }
            int id = data.getUnsignedShort(at + 2);
            AluaGroup group = null;
            for (AluaGroup g : alua.groups()) {
                if (g.id() == id) {
                    group = g;
                }
            }
            if (group == null || !group.mode().explicit()) {
                throw Sense.invalidParameterField(off + 2, -1).exception();
            }
            changes.add(new Change(group, state));
        }
        for (Change ch : changes) {
            try {
                alua.setState(ch.group().name(), ch.state(), true, c.nexus());
            } catch (IllegalArgumentException e) { // deleted meanwhile by the administrator
                throw Sense.of(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST).exception();
            }
        }
        return c.good();
    }
}
