package org.jtarget.iscsi.internal.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.List;
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
import org.jtarget.iscsi.internal.pdu.ReadyToTransfer;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.ScsiCommand;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.jtarget.iscsi.internal.pdu.SnackRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementRequest;
import org.jtarget.iscsi.internal.pdu.TaskManagementResponsePdu;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.iscsi.internal.pdu.TextResponse;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every PDU type survives encode then decode, with and without digests, fed one byte at a time. */
class PduRoundTripTest {
    private static ByteBuf data(String s) {
        return Unpooled.copiedBuffer(s, StandardCharsets.UTF_8);
    }

    static List<IscsiPdu> samples() {
        byte[] cdb16 = {0x28, 0, 0, 0, 0, 8, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0};
        byte[] cdb32 = new byte[32];
        for (int i = 0; i < 32; i++) {
            cdb32[i] = (byte) (0x7f - i);
        }
        return List.of(
                new NopOut(true, 0x0001000000000000L, 7, -1, 10, 20, data("ping!")),
                new ScsiCommand(false, true, true, false, 1, 0, 8, 4096, 11, 21, cdb16, 0, null),
                new ScsiCommand(false, false, false, true, 2, 1L << 48, 9, 8192, 12, 22, cdb16, 0, data("abc")),
                new ScsiCommand(true, true, true, true, 1, 0, 10, 512, 13, 23, cdb32, 1024, data("immediate")),
                new TaskManagementRequest(true, 1, 0, 11, 8, 14, 24, 11, 0),
                new LoginRequest(true, false, 0, 1, 0, 0, ISID, 0, 12, 1, 15, 25, data("InitiatorName=iqn.x\0")),
                new TextRequest(false, true, false, 0, 13, -1, 16, 26, data("SendTargets=All\0")),
                new DataOut(true, 0, 14, 77, 27, 3, 65536, data("0123456789")),
                new LogoutRequest(true, 1, 15, 1, 17, 28),
                new SnackRequest(1, 0, 16, -1, 29, 2, 3),
                new NopIn(0, 17, -1, 30, 18, 145, data("pong")),
                new ScsiResponsePdu(false, true, false, true, 0, 2, 18, 0, 31, 19, 146, 2, 100, 200, data("\0\22sense")),
                new TaskManagementResponsePdu(1, 19, 32, 20, 147),
                new LoginResponse(true, false, 1, 3, 0, 0, ISID, 5, 20, 33, 21, 148, 0, 0, data("TargetPortalGroupTag=1\0")),
                new LoginResponse(false, false, 0, 0, 0, 0, ISID, 0, 21, 34, 21, 148, 2, 3, null),
                new TextResponse(false, true, 0, 22, 99, 35, 22, 149, data("TargetName=iqn.y\0")),
                new DataIn(true, false, false, true, true, 0, 0, 23, -1, 36, 23, 150, 4, 8192, 512, data("payload")),
                new LogoutResponse(0, 24, 37, 24, 151, 2, 20),
                new ReadyToTransfer(0, 25, 100, 38, 25, 152, 1, 262144, 65536),
                new AsyncMessage(0, 39, 26, 153, 1, 0, 0, 2, 20, null),
                new Reject(4, 40, 27, 154, 0, Unpooled.wrappedBuffer(new byte[48])));
    }

    private static final long ISID = 0x23d000000001L;

    @ParameterizedTest
    @CsvSource({"false,false", "true,false", "false,true", "true,true"})
    void everyPduSurvivesARoundTrip(boolean headerDigest, boolean dataDigest) {
        ConnectionSettings settings = new ConnectionSettings();
        settings.headerDigest(headerDigest);
        settings.dataDigest(dataDigest);
        settings.maxRecvDataSegmentLength(8192);
        EmbeddedChannel encoder = new EmbeddedChannel(new IscsiPduEncoder(settings));
        EmbeddedChannel decoder = new EmbeddedChannel(new IscsiFrameDecoder(settings));
        for (IscsiPdu pdu : samples()) {
            encoder.writeOutbound(ReferenceCountUtil.retain(pdu));
            ByteBuf wire = Unpooled.buffer();
            ByteBuf part;
            while ((part = encoder.readOutbound()) != null) {
                wire.writeBytes(part);
                part.release();
            }
            assertEquals(0, wire.readableBytes() % 4, "PDUs are padded to 4 bytes");
            while (wire.isReadable()) { // one byte at a time: the decoder must wait, never misframe
                decoder.writeInbound(wire.readRetainedSlice(1));
            }
            wire.release();
            IscsiPdu decoded = decoder.readInbound();
            try {
                assertEquals(pdu, decoded);
                assertNull(decoder.readInbound());
            } finally {
                ReferenceCountUtil.release(decoded);
                ReferenceCountUtil.release(pdu);
            }
        }
        assertFalse(encoder.finish());
        assertFalse(decoder.finish());
    }
}
