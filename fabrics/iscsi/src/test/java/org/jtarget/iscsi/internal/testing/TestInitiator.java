package org.jtarget.iscsi.internal.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import org.jtarget.iscsi.internal.codec.ConnectionSettings;
import org.jtarget.iscsi.internal.codec.IscsiFrameDecoder;
import org.jtarget.iscsi.internal.codec.IscsiPduEncoder;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.LoginRequest;
import org.jtarget.iscsi.internal.pdu.LoginResponse;
import org.jtarget.iscsi.internal.session.FabricContext;
import org.jtarget.iscsi.internal.session.IscsiConnection;
import org.jtarget.iscsi.internal.session.SessionRegistry;
import org.jtarget.spi.fabric.TargetCore;

/**
 * Plays the initiator against one target connection on an EmbeddedChannel: PDUs go through a real encoder to
 * bytes and back through a real frame decoder on both sides.
 */
public final class TestInitiator implements AutoCloseable {
    public static final InetSocketAddress PORTAL = new InetSocketAddress("127.0.0.1", 3260);
    public static final String INITIATOR = "iqn.2026-11.org.example:client";
    public static final long ISID = 0x23d000000001L;

    public final ConnectionSettings targetSettings = new ConnectionSettings();
    public final ConnectionSettings initiatorSettings = new ConnectionSettings();
    public final EmbeddedChannel target;
    private final EmbeddedChannel codec;
    public int cmdSn = 1;
    public int expStatSn;
    private int itt = 1;

    public TestInitiator(TargetCore core, SessionRegistry registry) {
        this(new FabricContext(core, "iscsi", registry, new SecureRandom()));
    }

    /** A connection of the fabric instance {@code context} (tests share one to share its login guard). */
    public TestInitiator(FabricContext context) {
        target = new EmbeddedChannel(new IscsiFrameDecoder(targetSettings), new IscsiPduEncoder(targetSettings),
                new IscsiConnection(context, targetSettings, PORTAL));
        initiatorSettings.maxRecvDataSegmentLength(0xffffff);
        codec = new EmbeddedChannel(new IscsiFrameDecoder(initiatorSettings), new IscsiPduEncoder(initiatorSettings));
    }

    /** Makes both ends allocate from {@code alloc} (e.g. one that tracks its buffers). */
    public void allocator(io.netty.buffer.ByteBufAllocator alloc) {
        target.config().setAllocator(alloc);
        codec.config().setAllocator(alloc);
    }

    public int nextItt() {
        return itt++;
    }

    /** Encodes a PDU and feeds its bytes to the target. */
    public void send(IscsiPdu pdu) {
        codec.writeOutbound(pdu);
        ByteBuf b;
        while ((b = codec.readOutbound()) != null) {
            if (target.isOpen()) {
                target.writeInbound(b);
            } else { // closed on an earlier part (e.g. an oversized segment's header): the rest is lost
                b.release();
            }
        }
        target.runPendingTasks();
    }

    /** The bytes the initiator codec makes of a PDU (to corrupt them before {@link #sendBytes}). */
    public ByteBuf encode(IscsiPdu pdu) {
        codec.writeOutbound(pdu);
        ByteBuf wire = Unpooled.buffer();
        ByteBuf b;
        while ((b = codec.readOutbound()) != null) {
            wire.writeBytes(b);
            b.release();
        }
        return wire;
    }

    public void sendBytes(ByteBuf bytes) {
        target.writeInbound(bytes);
    }

    /** Everything the target has sent so far, decoded. Callers release what they get. */
    public List<IscsiPdu> receiveAll() {
        target.runPendingTasks();
        Object o;
        while ((o = target.readOutbound()) != null) {
            codec.writeInbound(o);
        }
        List<IscsiPdu> pdus = new ArrayList<>();
        while ((o = codec.readInbound()) != null) {
            pdus.add((IscsiPdu) o);
        }
        return pdus;
    }

    /** The next PDU the target sent; fails when there is none or it is of another type. */
    public <T extends IscsiPdu> T receive(Class<T> type) {
        List<IscsiPdu> all = receiveAll();
        assertEquals(1, all.size(), () -> "expected one " + type.getSimpleName() + ", got " + all);
        IscsiPdu pdu = all.get(0);
        if (!type.isInstance(pdu)) {
            all.forEach(ReferenceCountUtil::release);
            throw new AssertionError("expected " + type.getSimpleName() + ", got " + pdu);
        }
        return type.cast(pdu);
    }

    public static ByteBuf text(String... pairs) {
        StringBuilder sb = new StringBuilder();
        for (String p : pairs) {
            sb.append(p).append('\0');
        }
        return Unpooled.copiedBuffer(sb, StandardCharsets.UTF_8);
    }

    public static String text(ByteBuf data) {
        return data.toString(StandardCharsets.UTF_8).replace('\0', '\n');
    }

    public LoginResponse login(boolean transit, int csg, int nsg, String... pairs) {
        send(new LoginRequest(transit, false, csg, nsg, 0, 0, ISID, 0, nextItt(), 1, cmdSn, expStatSn, text(pairs)));
        LoginResponse response = receive(LoginResponse.class);
        expStatSn = response.statSn() + 1;
        return response;
    }

    /** A login straight to the full feature phase with no authentication; returns the final response text. */
    public String loginNormal(String targetName, String... operational) {
        LoginResponse security = login(true, 0, 1, "InitiatorName=" + INITIATOR, "SessionType=Normal",
                "TargetName=" + targetName, "AuthMethod=None");
        assertEquals(0, security.statusClass(), () -> "login failed: " + security);
        security.release();
        LoginResponse op = login(true, 1, 3, operational);
        assertEquals(0, op.statusClass(), () -> "login failed: " + op);
        assertNotNull(op);
        String result = text(op.data());
        op.release();
        return result;
    }

    @Override
    public void close() {
        receiveAll().forEach(ReferenceCountUtil::release);
        target.finishAndReleaseAll();
        codec.finishAndReleaseAll();
    }
}
