package org.jtarget.iscsi.internal.session;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jtarget.iscsi.internal.pdu.IscsiPdu;
import org.jtarget.iscsi.internal.pdu.Reject;
import org.jtarget.iscsi.internal.pdu.TextRequest;
import org.jtarget.iscsi.internal.pdu.TextResponse;
import org.jtarget.iscsi.internal.text.TextCodec;
import org.jtarget.spi.fabric.NetworkText;
import org.jtarget.spi.fabric.TpgEndpoint;

/**
 * Text Requests in the full feature phase (RFC 7143 §11.10, §11.11): SendTargets (§13.3, Appendix C) is
 * answered with the targets the core lets this initiator discover at this portal, every other key with
 * NotUnderstood. An answer longer than the initiator's MaxRecvDataSegmentLength goes out in pieces (§11.11.1:
 * C bit and a Target Transfer Tag the initiator sends back for the rest).
 *
 * <p>Single-threaded on the connection's event loop, like {@link IscsiConnection}. It owns the rest of the
 * last long answer until it is sent, a new request replaces it or {@link #clear()} releases it.
 */
final class TextExchange {
    private final IscsiConnection connection;
    private final FabricContext fabric;
    private final InetSocketAddress local;
    /** The session's TPG, null in a discovery session. */
    private final TpgEndpoint tpg;
    private final Map<Integer, ByteBuf> continuations = new HashMap<>();

    TextExchange(IscsiConnection connection, FabricContext fabric, InetSocketAddress local, TpgEndpoint tpg) {
        this.connection = connection;
        this.fabric = fabric;
        this.local = local;
        this.tpg = tpg;
    }

    void onText(TextRequest request) {
        if (request.ttt() != IscsiPdu.RESERVED_TAG) { // the initiator asks for the rest of a long answer
            ByteBuf rest = continuations.remove(request.ttt());
            if (rest == null) {
                connection.reject(Reject.INVALID_PDU_FIELD, request);
            } else {
                send(request, rest);
            }
            return;
        }
        // A new request (TTT 0xffffffff) resets the state of the exchange (§11.10.4): the rest of an earlier long
        // answer is not fetched any more. So one connection holds at most one answer's rest, however many
        // SendTargets=All it sends without fetching.
        clear();
        Map<String, String> keys;
        try {
            keys = TextCodec.parse(request.data());
        } catch (TextCodec.TextFormatException e) {
            connection.protocolError("bad Text Request from " + NetworkText.quote(connection.initiatorName()) + ": "
                    + e.getMessage());
            connection.reject(Reject.PROTOCOL_ERROR, request);
            return;
        }
        List<Map.Entry<String, String>> answer = new ArrayList<>();
        keys.forEach((key, value) -> {
            if (key.equals("SendTargets")) {
                answer.addAll(SendTargets.answer(discoverable(value), local));
            } else if (!value.equals("NotUnderstood") && !value.equals("Irrelevant") && !value.equals("Reject")) {
                answer.add(Map.entry(key, "NotUnderstood"));
            }
        });
        send(request, TextCodec.encode(connection.alloc(), answer));
    }

    /** §13.3: All, one target name, or (normal sessions only) empty for the session's own target. */
    private List<TpgEndpoint> discoverable(String value) {
        List<TpgEndpoint> all = fabric.core().discover(fabric.fabricName(), local, connection.initiatorName());
        if (value.equals("All")) {
            return all;
        }
        String wanted = value.isEmpty() && tpg != null ? tpg.targetName() : value;
        return all.stream().filter(t -> t.targetName().equals(wanted)).toList();
    }

    private void send(TextRequest request, ByteBuf text) {
        IscsiConnection c = connection;
        int max = c.parameters().initiatorMaxRecvDataSegmentLength();
        if (text.readableBytes() > max) { // §11.11.1: C bit and a TTT to fetch the rest
            int ttt = c.nextTargetTransferTag();
            ByteBuf chunk = text.readRetainedSlice(max);
            continuations.put(ttt, text);
            c.send(new TextResponse(false, true, request.lun(), request.itt(), ttt, c.nextStatSn(), c.expCmdSn(),
                    c.maxCmdSn(), chunk));
        } else {
            c.send(new TextResponse(true, false, request.lun(), request.itt(), IscsiPdu.RESERVED_TAG,
                    c.nextStatSn(), c.expCmdSn(), c.maxCmdSn(), text));
        }
        c.flush();
    }

    /** The connection ended: releases the rest of every long answer not fetched. */
    void clear() {
        continuations.values().forEach(ByteBuf::release);
        continuations.clear();
    }
}
