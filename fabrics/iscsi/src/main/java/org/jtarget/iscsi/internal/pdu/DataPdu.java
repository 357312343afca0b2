package org.jtarget.iscsi.internal.pdu;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufHolder;

/**
 * A PDU with a data segment (RFC 7143 §11.2.3). The data never includes padding or digests and is never
 * null (an empty segment is {@link io.netty.buffer.Unpooled#EMPTY_BUFFER}). Reference counting delegates
 * to the data, as in Netty's DefaultByteBufHolder.
 */
public interface DataPdu extends IscsiPdu, ByteBufHolder {
    /** The data segment; the same buffer as {@link #content()}. */
    ByteBuf data();

    @Override
    default ByteBuf content() {
        return data();
    }

    @Override
    DataPdu replace(ByteBuf content);

    @Override
    default DataPdu copy() {
        return replace(data().copy());
    }

    @Override
    default DataPdu duplicate() {
        return replace(data().duplicate());
    }

    @Override
    default DataPdu retainedDuplicate() {
        return replace(data().retainedDuplicate());
    }

    @Override
    default int refCnt() {
        return data().refCnt();
    }

    @Override
    default DataPdu retain() {
        data().retain();
        return this;
    }

    @Override
    default DataPdu retain(int increment) {
        data().retain(increment);
        return this;
    }

    @Override
    default DataPdu touch() {
        data().touch();
        return this;
    }

    @Override
    default DataPdu touch(Object hint) {
        data().touch(hint);
        return this;
    }

    @Override
    default boolean release() {
        return data().release();
    }

    @Override
    default boolean release(int decrement) {
        return data().release(decrement);
    }

    static ByteBuf orEmpty(ByteBuf data) {
        return data == null ? io.netty.buffer.Unpooled.EMPTY_BUFFER : data;
    }
}
