package org.jtarget.iscsi.internal.codec;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.nio.charset.StandardCharsets;
import org.jtarget.iscsi.internal.pdu.MalformedPdu;
import org.jtarget.iscsi.internal.pdu.NopOut;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.junit.jupiter.api.Test;

class IscsiFrameDecoderTest {
    private final ConnectionSettings settings = new ConnectionSettings();

    private ByteBuf encode(Object pdu) {
        EmbeddedChannel encoder = new EmbeddedChannel(new IscsiPduEncoder(settings));
        encoder.writeOutbound(pdu);
        ByteBuf wire = Unpooled.buffer();
        ByteBuf part;
        while ((part = encoder.readOutbound()) != null) {
            wire.writeBytes(part);
            part.release();
        }
        encoder.finish();
        return wire;
    }

    private static NopOut ping(String text) {
        return new NopOut(true, 0, 1, -1, 1, 1, Unpooled.copiedBuffer(text, StandardCharsets.US_ASCII));
    }

    @Test
    void partialFrameLeavesReaderIndexAlone() {
        EmbeddedChannel decoder = new EmbeddedChannel(new IscsiFrameDecoder(settings));
        ByteBuf wire = encode(ping("hello"));
        ByteBuf first = wire.readRetainedSlice(50); // BHS plus two data bytes
        assertFalse(decoder.writeInbound(first));
        assertNull(decoder.readInbound());
        assertTrue(decoder.writeInbound(wire));
        NopOut pdu = decoder.readInbound();
        assertEquals("hello", pdu.data().toString(StandardCharsets.US_ASCII));
        pdu.release();
        assertFalse(decoder.finish());
    }

    @Test
    void twoPdusInOneReadGiveTwoMessages() {
        EmbeddedChannel decoder = new EmbeddedChannel(new IscsiFrameDecoder(settings));
        ByteBuf both = Unpooled.wrappedBuffer(encode(ping("a")), encode(ping("bcdef")));
        decoder.writeInbound(both);
        NopOut a = decoder.readInbound();
        NopOut b = decoder.readInbound();
        assertEquals("a", a.data().toString(StandardCharsets.US_ASCII));
        assertEquals("bcdef", b.data().toString(StandardCharsets.US_ASCII));
        a.release();
        b.release();
        assertFalse(decoder.finish());
    }

    @Test
    void unknownOpcodeBecomesCommandNotSupported() {
        EmbeddedChannel decoder = new EmbeddedChannel(new IscsiFrameDecoder(settings));
        ByteBuf wire = encode(ping(""));
        wire.setByte(0, 0x1c); // vendor-specific initiator opcode, not in RFC 7143
        decoder.writeInbound(wire);
        MalformedPdu bad = decoder.readInbound();
        assertEquals(Reject.COMMAND_NOT_SUPPORTED, bad.rejectReason());
        assertFalse(bad.fatal());
        assertEquals(48, bad.data().readableBytes());
        assertEquals(0x1c, bad.data().getByte(0));
        bad.release();
        assertFalse(decoder.finish());
    }

    @Test
    void oversizedDataSegmentIsFatalAndStopsDecoding() {
        settings.maxRecvDataSegmentLength(512);
        EmbeddedChannel decoder = new EmbeddedChannel(new IscsiFrameDecoder(settings));
        ByteBuf header = encode(ping(""));
        header.setMedium(5, 513);
        decoder.writeInbound(header);
        MalformedPdu bad = decoder.readInbound();
        assertTrue(bad.fatal());
        assertTrue(bad.message().contains("513 (expected: <= 512)"), bad.message());
        bad.release();
        decoder.writeInbound(encode(ping("later")));
        assertNull(decoder.readInbound(), "nothing is decoded after a fatal framing error");
        assertFalse(decoder.finish());
    }

    @Test
    void badHeaderDigestIsFatal() {
        settings.headerDigest(true);
        EmbeddedChannel decoder = new EmbeddedChannel(new IscsiFrameDecoder(settings));
        ByteBuf wire = encode(ping("x"));
        wire.setByte(48, wire.getByte(48) ^ 1);
        decoder.writeInbound(wire);
        MalformedPdu bad = decoder.readInbound();
        assertTrue(bad.fatal());
        assertTrue(bad.message().startsWith("header digest"), bad.message());
        bad.release();
        assertFalse(decoder.finish());
    }

    @Test
    void badDataDigestRejectsOnePduAndDecodingGoesOn() {
        settings.headerDigest(true);
        settings.dataDigest(true);
        EmbeddedChannel decoder = new EmbeddedChannel(new IscsiFrameDecoder(settings));
        ByteBuf bad = encode(ping("corrupt"));
        bad.setByte(53, 'C'); // inside the data segment
        decoder.writeInbound(Unpooled.wrappedBuffer(bad, encode(ping("fine"))));
        MalformedPdu rejected = decoder.readInbound();
        assertEquals(Reject.DATA_DIGEST_ERROR, rejected.rejectReason());
        assertFalse(rejected.fatal());
        rejected.release();
        NopOut next = assertInstanceOf(NopOut.class, decoder.readInbound());
        assertEquals("fine", next.data().toString(StandardCharsets.US_ASCII));
        next.release();
        assertFalse(decoder.finish());
    }

    @Test
    void ahsOnAPduOtherThanScsiCommandIsRejected() {
        EmbeddedChannel decoder = new EmbeddedChannel(new IscsiFrameDecoder(settings));
        ByteBuf wire = encode(ping(""));
        ByteBuf withAhs = Unpooled.buffer().writeBytes(wire, 0, 48).writeInt(0x00010100);
        withAhs.setByte(4, 1);
        wire.release();
        decoder.writeInbound(withAhs);
        MalformedPdu bad = decoder.readInbound();
        assertEquals(Reject.PROTOCOL_ERROR, bad.rejectReason());
        bad.release();
        assertFalse(decoder.finish());
    }

    /** Reads split anywhere (inside a BHS, inside a data segment) while earlier PDUs still hold their data. */
    @Test
    void framesStraddlingReadsArriveIntactWhileEarlierOnesAreHeld() {
        String[] texts = {"first segment of text", "second", "third, the longest of the three segments"};
        ByteBuf wire = Unpooled.buffer();
        for (String t : texts) {
            ByteBuf one = encode(ping(t));
            wire.writeBytes(one);
            one.release();
        }
        int total = wire.readableBytes();
        for (int cut = 1; cut < total; cut += 7) {
            EmbeddedChannel decoder = new EmbeddedChannel(new IscsiFrameDecoder(settings));
            int[] cuts = {cut, Math.min(total, cut + 30), total};
            int at = 0;
            for (int end : cuts) {
                if (end > at) {
                    decoder.writeInbound(wire.retainedSlice(at, end - at));
                    at = end;
                }
            }
            for (String t : texts) {
                NopOut pdu = decoder.readInbound();
                assertEquals(t, pdu.data().toString(StandardCharsets.US_ASCII), "cut at " + cut);
                pdu.release();
            }
            assertNull(decoder.readInbound());
            assertFalse(decoder.finish());
        }
        wire.release();
    }
}
