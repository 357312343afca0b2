package org.jtarget.iscsi.internal.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import org.jtarget.iscsi.internal.pdu.DataIn;
import org.jtarget.iscsi.internal.pdu.ScsiResponsePdu;
import org.junit.jupiter.api.Test;

/**
 * The encoder gathers the PDUs written (with the void promise, as the connection writes them) between two
 * flushes; a flush, or a write with a promise of its own, sends them.
 */
class IscsiPduEncoderBatchTest {
    private final ConnectionSettings settings = new ConnectionSettings();

    private static ScsiResponsePdu good(int itt) {
        return new ScsiResponsePdu(false, false, false, false, ScsiResponsePdu.COMMAND_COMPLETED, 0, itt, 0, itt, 1, 32,
                0, 0, 0, null);
    }

    private static ByteBuf drain(EmbeddedChannel channel) {
        ByteBuf wire = Unpooled.buffer();
        ByteBuf part;
        while ((part = channel.readOutbound()) != null) {
            wire.writeBytes(part);
            part.release();
        }
        return wire;
    }

    @Test
    void responsesWrittenTogetherLeaveInOrderAtTheFlush() {
        EmbeddedChannel encoder = new EmbeddedChannel(new IscsiPduEncoder(settings));
        encoder.write(good(7), encoder.voidPromise());
        encoder.write(good(8), encoder.voidPromise());
        assertNull(encoder.readOutbound(), "nothing leaves before the flush");
        encoder.flush();
        ByteBuf gathered = encoder.readOutbound();
        assertEquals(2 * Bhs.LENGTH, gathered.readableBytes(), "both in one buffer");
        assertNull(encoder.readOutbound());
        ByteBuf wire = gathered;
        assertEquals(7, wire.getInt(Bhs.ITT));
        assertEquals(8, wire.getInt(Bhs.LENGTH + Bhs.ITT));
        wire.release();
        assertFalse(encoder.finish());
    }

    @Test
    void aWriteWithItsOwnPromiseCompletesAndCarriesTheGatheredPdusBeforeIt() {
        EmbeddedChannel encoder = new EmbeddedChannel(new IscsiPduEncoder(settings));
        byte[] payload = new byte[IscsiPduEncoder.INLINE_MAX * 4 + 1];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) i;
        }
        encoder.write(good(1), encoder.voidPromise());
        ChannelFuture sent = encoder.writeAndFlush(new DataIn(true, false, false, false, true, 0, 0, 2, -1, 2, 1, 32,
                0, 0, 0, Unpooled.copiedBuffer(payload)));
        assertTrue(sent.isSuccess(), "the promise of the Data-In completes");
        ByteBuf wire = drain(encoder);
        assertEquals(1, wire.getInt(Bhs.ITT));
        assertEquals(2, wire.getInt(Bhs.LENGTH + Bhs.ITT));
        assertEquals(payload.length, wire.getUnsignedMedium(Bhs.LENGTH + Bhs.DATA_SEGMENT_LENGTH));
        assertArrayEquals(payload, ByteBufUtil.getBytes(wire, 2 * Bhs.LENGTH, payload.length));
        assertEquals(2 * Bhs.LENGTH + payload.length + 3, wire.readableBytes(), "padded to 4 bytes");
        wire.release();
        assertFalse(encoder.finish());
    }

    @Test
    void gatheredPdusNeverWrittenAreReleasedWithTheEncoder() {
        List<ByteBuf> allocated = new ArrayList<>();
        EmbeddedChannel encoder = new EmbeddedChannel(new IscsiPduEncoder(settings));
        encoder.config().setAllocator(new AbstractByteBufAllocator(false) {
            @Override
            protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
                return newDirectBuffer(initialCapacity, maxCapacity);
            }

            @Override
            protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
                ByteBuf b = Unpooled.directBuffer(initialCapacity, maxCapacity);
                allocated.add(b);
                return b;
            }

            @Override
            public boolean isDirectBufferPooled() {
                return false;
            }
        });
        ByteBuf sense = Unpooled.buffer().writeShort(2).writeShort(0x7000);
        encoder.write(good(3).replace(sense), encoder.voidPromise());
        assertEquals(0, sense.refCnt(), "the PDU's data is released once gathered");
        encoder.pipeline().remove(IscsiPduEncoder.class);
        assertEquals(1, allocated.size());
        assertEquals(0, allocated.get(0).refCnt(), "the gathered buffer is released with the encoder");
        assertFalse(encoder.finish());
    }
}
