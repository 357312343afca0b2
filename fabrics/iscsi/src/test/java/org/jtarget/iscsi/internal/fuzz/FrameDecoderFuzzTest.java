package org.jtarget.iscsi.internal.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.util.ArrayList;
import java.util.List;
import org.jtarget.iscsi.internal.codec.ConnectionSettings;
import org.jtarget.iscsi.internal.codec.IscsiFrameDecoder;
import org.jtarget.iscsi.internal.codec.IscsiPduEncoder;
import org.jtarget.iscsi.internal.pdu.DataPdu;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.MalformedPdu;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes {@link IscsiFrameDecoder} and the PDU decoder behind it (RFC 7143 §11.2) on an EmbeddedChannel with
 * random bytes and with encoded PDUs of every opcode, mutated and cut into random chunks, with and without
 * digests. Whatever the input: no exception leaves the pipeline, every message is a PDU that survives a second
 * encode/decode unchanged or a {@link MalformedPdu} (after a fatal one nothing more), and every buffer is
 * released.
 */
class FrameDecoderFuzzTest extends FuzzProperties {
    /** Chunk sizes the bytes arrive in, used in turn: tiny ones, up to a few PDUs, or all at once (empty). */
    static List<Integer> chunks(Gen g) {
        return g.list(0, 6, () -> g.bool() ? g.between(1, 8) : g.between(1, 600));
    }

    record RandomBytes(byte[] bytes, boolean headerDigest, boolean dataDigest, int maxRecv, List<Integer> chunks) {
    }

    record MutatedPdus(List<PduSpec> pdus, List<List<Mutation>> mutations, boolean headerDigest,
                       boolean dataDigest, boolean fixHeaderDigest, List<Integer> chunks) {
    }

    @Test
    void randomBytes() {
        Fuzz.check(g -> new RandomBytes(g.bytes(0, 1200), g.bool(), g.bool(), g.between(512, 9000), chunks(g)),
                in -> {
                    TrackingAllocator alloc = new TrackingAllocator();
                    decode(alloc, settings(in.headerDigest(), in.dataDigest(), in.maxRecv()), in.bytes(), in.chunks())
                            .forEach(ReferenceCountUtil::release);
                    alloc.assertAllReleased();
                    log.assertQuiet();
                });
    }

    @Test
    void mutatedPdus() {
        Fuzz.check(g -> new MutatedPdus(g.list(1, 4, () -> PduSpec.any(g)), g.list(0, 4, () -> Mutation.list(g, 3)),
                g.bool(), g.bool(), g.bool(), chunks(g)), FrameDecoderFuzzTest::mutatedPdus);
    }

    private static void mutatedPdus(MutatedPdus in) {
        List<PduSpec> pdus = in.pdus();
        List<List<Mutation>> mutations = in.mutations();
        boolean headerDigest = in.headerDigest();
        TrackingAllocator alloc = new TrackingAllocator();
        ConnectionSettings settings = settings(headerDigest, in.dataDigest(), 8192);
        ByteBuf wire = Unpooled.buffer();
        for (int i = 0; i < pdus.size(); i++) {
            byte[] frame = encode(alloc, settings, pdus.get(i).build(copy(alloc, pdus.get(i).data())));
            List<Mutation> m = i < mutations.size() ? mutations.get(i) : List.of();
            wire.writeBytes(Mutation.apply(frame, m, headerDigest, in.fixHeaderDigest()));
        }
        byte[] bytes = new byte[wire.readableBytes()];
        wire.readBytes(bytes).release();
        List<IscsiPdu> decoded = decode(alloc, settings, bytes, in.chunks());
        try {
            if (mutations.stream().allMatch(List::isEmpty)) { // unmutated: exactly what was sent (sanity check)
                List<IscsiPdu> expected = new ArrayList<>();
                for (PduSpec p : pdus) {
                    expected.add(p.build(Unpooled.wrappedBuffer(p.data())));
                }
                try {
                    assertEquals(expected, decoded);
                } finally {
                    expected.forEach(ReferenceCountUtil::release);
                }
            }
        } finally {
            decoded.forEach(ReferenceCountUtil::release);
        }
        alloc.assertAllReleased();
        log.assertQuiet();
    }

    private static ConnectionSettings settings(boolean headerDigest, boolean dataDigest, int maxRecv) {
        ConnectionSettings settings = new ConnectionSettings();
        settings.headerDigest(headerDigest);
        settings.dataDigest(dataDigest);
        settings.maxRecvDataSegmentLength(maxRecv);
        return settings;
    }

    private static ByteBuf copy(TrackingAllocator alloc, byte[] data) {
        return alloc.copyOf(data, 0, data.length);
    }

    /** The bytes IscsiPduEncoder makes of a PDU (which it releases). */
    static byte[] encode(TrackingAllocator alloc, ConnectionSettings settings, IscsiPdu pdu) {
        EmbeddedChannel encoder = new EmbeddedChannel(new IscsiPduEncoder(settings));
        encoder.config().setAllocator(alloc);
        assertTrue(encoder.writeOutbound(pdu));
        ByteBuf wire = Unpooled.buffer();
        ByteBuf part;
        while ((part = encoder.readOutbound()) != null) {
            wire.writeBytes(part);
            part.release();
        }
        assertFalse(encoder.finish());
        byte[] bytes = new byte[wire.readableBytes()];
        wire.readBytes(bytes).release();
        return bytes;
    }

    /**
     * Feeds bytes in chunks to a frame decoder and checks what comes out; returns the decoded PDUs, which the
     * caller releases.
     */
    private static List<IscsiPdu> decode(TrackingAllocator alloc, ConnectionSettings settings, byte[] bytes,
                                         List<Integer> chunks) {
        EmbeddedChannel channel = new EmbeddedChannel(new IscsiFrameDecoder(settings));
        channel.config().setAllocator(alloc);
        List<IscsiPdu> decoded = new ArrayList<>();
        int offset = 0;
        int chunk = 0;
        boolean fatal = false;
        while (offset < bytes.length) {
            int size = chunks.isEmpty() ? bytes.length : Math.min(chunks.get(chunk++ % chunks.size()),
                    bytes.length - offset);
            channel.writeInbound(alloc.copyOf(bytes, offset, size));
            channel.checkException();
            offset += size;
            fatal = drain(alloc, settings, channel, decoded, fatal);
        }
        channel.finish(); // end of stream: a partial frame is dropped, never misread
        drain(alloc, settings, channel, decoded, fatal);
        return decoded;
    }

    private static boolean drain(TrackingAllocator alloc, ConnectionSettings settings, EmbeddedChannel channel,
                                 List<IscsiPdu> decoded, boolean fatal) {
        Object o;
        while ((o = channel.readInbound()) != null) {
            try {
                assertFalse(fatal, () -> "decoded after a fatal framing error (expected: nothing)");
                IscsiPdu pdu = (IscsiPdu) o;
                if (pdu instanceof MalformedPdu bad) {
                    assertEquals(48, bad.data().readableBytes(), "Reject data: the rejected BHS (§11.17.3)");
                    fatal = bad.fatal();
                } else {
                    if (pdu instanceof DataPdu d) {
                        int length = d.data().readableBytes();
                        assertTrue(length <= settings.maxRecvDataSegmentLength(), () -> "data segment: " + length
                                + " (expected: <= " + settings.maxRecvDataSegmentLength() + ")");
                    }
                    if (pdu.opcode().fromInitiator()) {
                        assertReencodes(alloc, pdu);
                    }
                }
                decoded.add((IscsiPdu) ReferenceCountUtil.retain(pdu));
            } finally {
                ReferenceCountUtil.release(o);
            }
        }
        return fatal;
    }

    /** A decoded initiator PDU is well formed: encoding it again and decoding that gives the same PDU. */
    private static void assertReencodes(TrackingAllocator alloc, IscsiPdu pdu) {
        ConnectionSettings plain = settings(false, false, 0xffffff);
        byte[] again = encode(alloc, plain, (IscsiPdu) ReferenceCountUtil.retain(pdu));
        EmbeddedChannel channel = new EmbeddedChannel(new IscsiFrameDecoder(plain));
        channel.writeInbound(Unpooled.wrappedBuffer(again));
        IscsiPdu second = channel.readInbound();
        try {
            assertEquals(pdu, second, "decode(encode(decoded))");
        } finally {
            ReferenceCountUtil.release(second);
            assertFalse(channel.finishAndReleaseAll());
        }
    }
}
