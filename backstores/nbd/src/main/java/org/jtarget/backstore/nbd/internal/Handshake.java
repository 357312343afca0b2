package org.jtarget.backstore.nbd.internal;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.backstore.BackstoreException;

/**
 * The client side of the fixed newstyle handshake (proto.md "Newstyle negotiation"): structured replies,
 * the {@code base:allocation} meta context, then NBD_OPT_GO with a block size request; NBD_OPT_EXPORT_NAME
 * when the server does not know NBD_OPT_GO (or is not fixed newstyle). Options go one at a time. When the
 * export is agreed, this handler puts the transmission handler made by {@code next} in its place and
 * completes {@code result}; every failure completes it exceptionally with a {@link BackstoreException} whose
 * message says what the server did, and closes the channel.
 */
final class Handshake extends ByteToMessageDecoder {
    private static final int MAX_OPTION_REPLY = 64 * 1024;

    private enum State { GREETING, FLAGS, OPTION_REPLY, EXPORT_NAME_REPLY, DONE }

    private final String export;
    private final long timeoutMillis;
    private final Function<Export, ChannelHandler> next;
    final CompletableFuture<Export> result = new CompletableFuture<>();

    private State state = State.GREETING;
    private boolean noZeroes;
    private boolean structured;
    private long allocationContext = -1;
    private long size = -1;
    private int flags;
    private int minBlock = 1;
    private int preferredBlock = 4096;
    private long maxPayload = Export.DEFAULT_MAX_PAYLOAD;
    private int pendingOption;
    private ScheduledFuture<?> timeout;

    Handshake(String export, long timeoutMillis, Function<Export, ChannelHandler> next) {
        this.export = export;
        this.timeoutMillis = timeoutMillis;
        this.next = next;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        timeout = ctx.executor().schedule(() -> fail(ctx, SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                "no handshake within " + timeoutMillis + " ms (is it an NBD server?)"), timeoutMillis, TimeUnit.MILLISECONDS);
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        while (state != State.DONE && !result.isDone()) {
            int before = in.readableBytes();
            step(ctx, in);
            if (in.readableBytes() == before) {
                return; // needs more bytes
            }
        }
    }

    private void step(ChannelHandlerContext ctx, ByteBuf in) {
        switch (state) {
            case GREETING -> {
                if (in.readableBytes() < 16) {
                    return;
                }
                long magic = in.readLong();
                long second = in.readLong();
                if (magic != Nbd.NBDMAGIC) {
                    fail(ctx, SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                            "not an NBD server (bad magic 0x" + Long.toHexString(magic) + ", expected: NBDMAGIC)");
                } else if (second == Nbd.CLISERV_MAGIC) {
                    fail(ctx, SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                            "the server speaks oldstyle negotiation (expected: newstyle)");
                } else if (second != Nbd.IHAVEOPT) {
                    fail(ctx, SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                            "not an NBD server (bad magic 0x" + Long.toHexString(second) + " after NBDMAGIC, expected: IHAVEOPT)");
                } else {
                    state = State.FLAGS;
                }
            }
            case FLAGS -> {
                if (in.readableBytes() < 2) {
                    return;
                }
                int serverFlags = in.readUnsignedShort();
                boolean fixed = (serverFlags & Nbd.FLAG_FIXED_NEWSTYLE) != 0;
                noZeroes = (serverFlags & Nbd.FLAG_NO_ZEROES) != 0;
                ByteBuf reply = ctx.alloc().buffer(4);
                reply.writeInt(serverFlags & (Nbd.FLAG_FIXED_NEWSTYLE | Nbd.FLAG_NO_ZEROES));
                ctx.write(reply);
                if (fixed) {
                    sendOption(ctx, Nbd.OPT_STRUCTURED_REPLY, null);
                } else {
                    sendExportName(ctx); // plain newstyle: the server would close on any other option
                }
            }
            case OPTION_REPLY -> {
                if (in.readableBytes() < 20) {
                    return;
                }
                int start = in.readerIndex();
                long length = in.getUnsignedInt(start + 16);
                if (length > MAX_OPTION_REPLY) {
                    fail(ctx, SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, "option reply of " + length
                            + " bytes (expected: at most " + MAX_OPTION_REPLY + ")");
                    return;
                }
                if (in.readableBytes() < 20 + length) {
                    return;
                }
                long magic = in.readLong();
                int option = in.readInt();
                int type = in.readInt();
                in.skipBytes(4);
                ByteBuf data = in.readSlice((int) length);
                if (magic != Nbd.OPTION_REPLY_MAGIC || option != pendingOption) {
                    fail(ctx, SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, "bad option reply (magic 0x"
                            + Long.toHexString(magic) + ", option " + option + "; expected: magic 0x"
                            + Long.toHexString(Nbd.OPTION_REPLY_MAGIC) + ", option " + pendingOption + ")");
                    return;
                }
                optionReply(ctx, type, data);
            }
            case EXPORT_NAME_REPLY -> {
                int need = noZeroes ? 10 : 134;
                if (in.readableBytes() < need) {
                    return;
                }
                size = in.readLong();
                flags = in.readUnsignedShort();
                in.skipBytes(need - 10);
                done(ctx, false);
            }
            case DONE -> {
            }
        }
    }

    private void optionReply(ChannelHandlerContext ctx, int type, ByteBuf data) {
        boolean error = type < 0;
        switch (pendingOption) {
            case Nbd.OPT_STRUCTURED_REPLY -> {
                structured = type == Nbd.REP_ACK;
                if (structured) {
                    sendOption(ctx, Nbd.OPT_SET_META_CONTEXT, metaContextQuery(ctx));
                } else {
                    sendGo(ctx);
                }
            }
            case Nbd.OPT_SET_META_CONTEXT -> {
                if (type == Nbd.REP_META_CONTEXT && data.readableBytes() >= 4) {
                    long id = data.readUnsignedInt();
                    if (Nbd.BASE_ALLOCATION.equals(data.toString(StandardCharsets.UTF_8))) {
                        allocationContext = id;
                    }
                } else if (type == Nbd.REP_ACK || error) {
                    sendGo(ctx); // an error only means no block status
                }
            }
            case Nbd.OPT_GO -> {
                if (type == Nbd.REP_INFO) {
                    info(data);
                } else if (type == Nbd.REP_ACK) {
                    if (size < 0) {
                        fail(ctx, SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                                "the server ended NBD_OPT_GO without NBD_INFO_EXPORT (expected: the export size)");
                    } else {
                        done(ctx, true);
                    }
                } else if (type == Nbd.REP_ERR_UNSUP) {
                    sendExportName(ctx); // an old server: proto.md allows this fallback
                } else if (error) {
                    refused(ctx, type, data);
                }
            }
            default -> fail(ctx, SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, "reply to an option never sent");
        }
    }

    private void refused(ChannelHandlerContext ctx, int type, ByteBuf data) {
        String text = data.readableBytes() > 0 ? ": " + data.toString(StandardCharsets.UTF_8) : "";
        String name = Nbd.optionReplyName(type);
        switch (type) {
            case Nbd.REP_ERR_UNKNOWN -> fail(ctx, SenseReason.INVALID_FIELD_IN_PARAMETER_LIST,
                    "export \"" + export + "\" not found (" + name + text + ")");
            case Nbd.REP_ERR_TLS_REQD -> fail(ctx, SenseReason.INVALID_FIELD_IN_PARAMETER_LIST,
                    "the server requires TLS (not supported; " + name + text + ")");
            case Nbd.REP_ERR_POLICY -> fail(ctx, SenseReason.INVALID_FIELD_IN_PARAMETER_LIST,
                    "export \"" + export + "\" refused by the server's policy (" + name + text + ")");
            default -> fail(ctx, SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE,
                    "the server refused export \"" + export + "\" (" + name + text + ")");
        }
    }

    private void info(ByteBuf data) {
        if (data.readableBytes() < 2) {
            return;
        }
        int info = data.readUnsignedShort();
        if (info == Nbd.INFO_EXPORT && data.readableBytes() >= 10) {
            size = data.readLong();
            flags = data.readUnsignedShort();
        } else if (info == Nbd.INFO_BLOCK_SIZE && data.readableBytes() >= 12) {
            minBlock = (int) Math.max(1, Math.min(data.readUnsignedInt(), 1 << 16));
            preferredBlock = (int) Math.min(data.readUnsignedInt(), 1 << 30);
            maxPayload = data.readUnsignedInt();
        }
    }

    private ByteBuf metaContextQuery(ChannelHandlerContext ctx) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        byte[] query = Nbd.BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
        ByteBuf b = ctx.alloc().buffer(12 + name.length + query.length);
        b.writeInt(name.length).writeBytes(name).writeInt(1).writeInt(query.length).writeBytes(query);
        return b;
    }

    private void sendGo(ChannelHandlerContext ctx) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = ctx.alloc().buffer(8 + name.length);
        b.writeInt(name.length).writeBytes(name).writeShort(1).writeShort(Nbd.INFO_BLOCK_SIZE);
        sendOption(ctx, Nbd.OPT_GO, b);
    }

    private void sendExportName(ChannelHandlerContext ctx) {
        byte[] name = export.getBytes(StandardCharsets.UTF_8);
        ByteBuf b = ctx.alloc().buffer(name.length);
        b.writeBytes(name);
        sendOption(ctx, Nbd.OPT_EXPORT_NAME, b);
        state = State.EXPORT_NAME_REPLY;
    }

    private void sendOption(ChannelHandlerContext ctx, int option, ByteBuf data) {
        int length = data == null ? 0 : data.readableBytes();
        ByteBuf header = ctx.alloc().buffer(16);
        header.writeLong(Nbd.IHAVEOPT).writeInt(option).writeInt(length);
        ctx.write(header);
        if (data != null) {
            ctx.write(data);
        }
        ctx.flush();
        pendingOption = option;
        state = State.OPTION_REPLY;
    }

    private void done(ChannelHandlerContext ctx, boolean viaGo) {
        state = State.DONE;
        timeout.cancel(false);
        Export agreed = new Export(size, flags, minBlock, preferredBlock,
                maxPayload == 0 ? Export.DEFAULT_MAX_PAYLOAD : maxPayload, structured, allocationContext, viaGo);
        ctx.pipeline().addAfter(ctx.name(), "nbd-transmission", next.apply(agreed));
        ctx.pipeline().remove(this); // hands any bytes already read on to the transmission handler
        result.complete(agreed);
    }

    private void fail(ChannelHandlerContext ctx, SenseReason reason, String message) {
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (result.completeExceptionally(new BackstoreException(reason, message))) {
            ctx.close();
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        String message = switch (state) {
            case GREETING, FLAGS -> "the server closed the connection before its greeting";
            case EXPORT_NAME_REPLY -> "the server closed the connection after NBD_OPT_EXPORT_NAME (export \""
                    + export + "\" not found, or refused)";
            default -> "the server closed the connection during the handshake";
        };
        fail(ctx, state == State.EXPORT_NAME_REPLY ? SenseReason.INVALID_FIELD_IN_PARAMETER_LIST
                : SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, message);
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        fail(ctx, SenseReason.LOGICAL_UNIT_COMMUNICATION_FAILURE, "handshake failed: " + cause);
    }
}
