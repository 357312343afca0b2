package org.jtarget.nbd.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.jtarget.spi.fabric.ScsiResponse;
import org.junit.jupiter.api.Test;

/** The handshake, option haggling and transmission of one connection, as an NBD client sees them. */
class NbdConnectionTest {
    private final FakeCore core = new FakeCore();
    private final FakeCore.Lu disk = core.add("disk", 1 << 20);

    private static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (seed + i * 7);
        }
        return b;
    }

    @Test
    void listNamesEveryExportOfThePortal() {
        core.add("second", 1 << 20);
        try (Client c = new Client(core).handshake()) {
            c.option(Nbd.OPT_LIST, Unpooled.EMPTY_BUFFER);
            List<String> names = new ArrayList<>();
            for (Client.Reply r = c.reply(Nbd.OPT_LIST); r.type() != Nbd.REP_ACK; r = c.reply(Nbd.OPT_LIST)) {
                assertEquals(Nbd.REP_SERVER, r.type());
                names.add(r.data().readCharSequence(r.data().readInt(), StandardCharsets.UTF_8).toString());
            }
            assertEquals(List.of("disk", "second"), names);
        }
    }

    @Test
    void goGivesSizeFlagsAndBlockSizesThenWritesAndReadsRoundTrip() {
        try (Client c = new Client(core).handshake()) {
            c.option(Nbd.OPT_GO, Client.nameAndRequests("disk", Nbd.INFO_BLOCK_SIZE, Nbd.INFO_NAME));
            Client.Reply export = c.reply(Nbd.OPT_GO);
            assertEquals(Nbd.INFO_EXPORT, export.data().readUnsignedShort());
            assertEquals(1 << 20, export.data().readLong());
            int flags = export.data().readUnsignedShort();
            assertEquals(0, flags & Nbd.TF_READ_ONLY);
            assertTrue((flags & Nbd.TF_SEND_TRIM) != 0 && (flags & Nbd.TF_CAN_MULTI_CONN) != 0 && (flags & Nbd.TF_SEND_FUA) != 0);
            ByteBuf bs = c.reply(Nbd.OPT_GO).data();
            assertEquals(Nbd.INFO_BLOCK_SIZE, bs.readUnsignedShort());
            assertEquals(512, bs.readInt());
            assertEquals(4096, bs.readInt());
            assertEquals(32 << 20, bs.readInt());
            ByteBuf name = c.reply(Nbd.OPT_GO).data();
            assertEquals(Nbd.INFO_NAME, name.readUnsignedShort());
            assertEquals("disk", name.toString(StandardCharsets.UTF_8));
            assertEquals(Nbd.REP_ACK, c.reply(Nbd.OPT_GO).type());

            byte[] data = pattern(8192, 3);
            c.request(Nbd.CMD_WRITE, Nbd.CMD_FLAG_FUA, 11, 65536, data.length, data);
            assertEquals(0, c.simpleReply(11));
            c.request(Nbd.CMD_READ, 0, 12, 65536, data.length, null);
            assertEquals(0, c.simpleReply(12));
            assertArrayEquals(data, ByteBufUtilBytes.of(c.take(data.length)));
            c.request(Nbd.CMD_FLUSH, 0, 13, 0, 0, null);
            assertEquals(0, c.simpleReply(13));
            c.request(Nbd.CMD_CACHE, 0, 14, 0, 4096, null);
            assertEquals(0, c.simpleReply(14), "CONDITION MET of PRE-FETCH is success");
            assertEquals("nbd:127.0.0.1,p,40000", disk.initiators.get(0));
        }
    }

    @Test
    void structuredRepliesAndBaseAllocationFollowWritesAndTrims() {
        try (Client c = new Client(core).handshake()) {
            c.option(Nbd.OPT_STRUCTURED_REPLY, Unpooled.EMPTY_BUFFER);
            assertEquals(Nbd.REP_ACK, c.reply(Nbd.OPT_STRUCTURED_REPLY).type());
            byte[] q = Nbd.BASE_ALLOCATION.getBytes(StandardCharsets.US_ASCII);
            c.option(Nbd.OPT_SET_META_CONTEXT, Unpooled.buffer().writeInt(4).writeBytes("disk".getBytes(StandardCharsets.UTF_8))
                    .writeInt(1).writeInt(q.length).writeBytes(q));
            Client.Reply ctx = c.reply(Nbd.OPT_SET_META_CONTEXT);
            assertEquals(Nbd.REP_META_CONTEXT, ctx.type());
            int id = ctx.data().readInt();
            assertEquals(Nbd.REP_ACK, c.reply(Nbd.OPT_SET_META_CONTEXT).type());
            c.go("disk");

            byte[] data = pattern(16384, 9);
            c.request(Nbd.CMD_WRITE, 0, 1, 0, data.length, data);
            Client.Chunk w = c.chunk(1);
            assertEquals(Nbd.REPLY_TYPE_NONE, w.type(), () -> w.payload().toString(StandardCharsets.UTF_8));
            c.request(Nbd.CMD_TRIM, 0, 2, 4096, 4096, null);
            assertEquals(Nbd.REPLY_TYPE_NONE, c.chunk(2).type());
            c.request(Nbd.CMD_BLOCK_STATUS, 0, 3, 0, 32768, null);
            Client.Chunk s = c.chunk(3);
            assertEquals(Nbd.REPLY_TYPE_BLOCK_STATUS, s.type());
            assertEquals(Nbd.REPLY_FLAG_DONE, s.flags() & Nbd.REPLY_FLAG_DONE);
            assertEquals(id, s.payload().readInt());
            int[][] expected = {{4096, 0}, {4096, 3}, {8192, 0}, {16384, 3}};
            for (int[] e : expected) {
                assertEquals(e[0], s.payload().readInt(), "extent length");
                assertEquals(e[1], s.payload().readInt(), "extent flags");
            }
            assertFalse(s.payload().isReadable());

            c.request(Nbd.CMD_READ, 0, 4, 4096, 8192, null);
            Client.Chunk r = c.chunk(4);
            assertEquals(Nbd.REPLY_TYPE_OFFSET_DATA, r.type());
            assertEquals(4096, r.payload().readLong());
            byte[] got = ByteBufUtilBytes.of(r.payload());
            byte[] want = new byte[8192];
            System.arraycopy(data, 8192, want, 4096, 4096);
            assertArrayEquals(want, got, "trimmed block reads zeros, the next as written");
        }
    }

    @Test
    void writeZeroesPunchesHolesUnlessNoHoleAndFastZeroNeedsThem() {
        disk.thin = false;
        try (Client c = new Client(core).handshake()) {
            long[] go = c.go("disk");
            assertEquals(0, go[1] & Nbd.TF_SEND_TRIM, "a thick LU offers no TRIM");
            c.request(Nbd.CMD_WRITE_ZEROES, Nbd.CMD_FLAG_FAST_ZERO, 1, 0, 4096, null);
            assertEquals(Nbd.ENOTSUP, c.simpleReply(1));
            c.request(Nbd.CMD_WRITE_ZEROES, Nbd.CMD_FLAG_NO_HOLE, 2, 0, 4096, null);
            assertEquals(0, c.simpleReply(2));
            assertTrue(disk.mapped.get(0), "NO_HOLE writes the zeros");
        }
    }

    @Test
    void scsiRefusalsBecomeNbdErrors() {
        disk.reserved = true;
        try (Client c = new Client(core).handshake()) {
            c.go("disk");
            c.request(Nbd.CMD_WRITE, 0, 1, 0, 512, new byte[512]);
            assertEquals(Nbd.EPERM, c.simpleReply(1), "RESERVATION CONFLICT");
            c.request(Nbd.CMD_READ, 0, 2, 0, 512, null);
            assertEquals(0, c.simpleReply(2), "reads pass a Write Exclusive reservation");
            c.take(512);
        }
        disk.reserved = false;
        disk.readOnly = true;
        try (Client c = new Client(core).handshake()) {
            long[] go = c.go("disk");
            assertTrue((go[1] & Nbd.TF_READ_ONLY) != 0, () -> "flags " + go[1]);
            c.request(Nbd.CMD_WRITE_ZEROES, 0, 1, 0, 512, null);
            assertEquals(Nbd.EPERM, c.simpleReply(1), "DATA PROTECT");
        }
    }

    @Test
    void structuredErrorsCarryTheSenseAsText() {
        disk.readOnly = true;
        try (Client c = new Client(core, "::1").handshake()) {
            c.option(Nbd.OPT_STRUCTURED_REPLY, Unpooled.EMPTY_BUFFER);
            c.reply(Nbd.OPT_STRUCTURED_REPLY);
            c.go("disk");
            c.request(Nbd.CMD_WRITE, Nbd.CMD_FLAG_FUA, 9, 0, 512, new byte[512]);
            Client.Chunk e = c.chunk(9);
            assertEquals(Nbd.REPLY_TYPE_ERROR, e.type());
            assertEquals(Nbd.REPLY_FLAG_DONE, e.flags());
            assertEquals(Nbd.EPERM, e.payload().readInt());
            String message = e.payload().readCharSequence(e.payload().readUnsignedShort(), StandardCharsets.UTF_8).toString();
            assertEquals("CHECK CONDITION sense key 7h ASC/ASCQ 27h/00h", message);
            assertEquals("nbd:::1,p,40000", disk.initiators.get(0), "RFC 5952 form of the client address");
        }
    }

    @Test
    void handshakesPerAddressAreBounded() {
        disk.parameters.put("max_logins_per_address", "2");
        Handshakes shared = new Handshakes();
        try (Client a = new Client(core, "127.0.0.1", shared); Client b = new Client(core, "127.0.0.1", shared)) {
            try (Client c = new Client(core, "127.0.0.1", shared)) {
                assertFalse(c.ch.isActive(), "a third connection in the handshake");
            }
            try (Client other = new Client(core, "127.0.0.2", shared)) {
                assertTrue(other.ch.isActive(), "another address has its own count");
            }
            a.handshake().go("disk");
            try (Client d = new Client(core, "127.0.0.1", shared)) {
                assertTrue(d.ch.isActive(), "a connection in transmission no longer counts");
            }
        }
    }

    @Test
    void unitAttentionsOfANewNexusAreRetried() {
        disk.unitAttentions = 2;
        try (Client c = new Client(core).handshake()) {
            assertEquals(1 << 20, c.go("disk")[0]);
        }
    }

    @Test
    void badRequestsGetErrorsAndTheConnectionGoesOn() {
        try (Client c = new Client(core).handshake()) {
            c.go("disk");
            c.request(Nbd.CMD_READ, 0, 1, (1 << 20) - 512, 1024, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(1), "read past the end");
            c.request(Nbd.CMD_WRITE, 0, 2, 1 << 20, 512, new byte[512]);
            assertEquals(Nbd.ENOSPC, c.simpleReply(2), "write past the end");
            c.request(Nbd.CMD_READ, 0, 3, 0, (32 << 20) + 512, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(3), "read longer than the maximum block size");
            c.request(Nbd.CMD_READ, 0, 4, 100, 512, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(4), "misaligned");
            c.request(Nbd.CMD_READ, 1 << 9, 5, 0, 512, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(5), "unknown flag");
            c.request(99, 0, 6, 0, 512, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(6), "unknown command");
            c.request(Nbd.CMD_BLOCK_STATUS, 0, 7, 0, 512, null);
            assertEquals(Nbd.EINVAL, c.simpleReply(7), "no meta context negotiated");
            c.request(Nbd.CMD_READ, 0, 8, 0, 512, null);
            assertEquals(0, c.simpleReply(8));
            c.take(512);
            assertTrue(c.ch.isActive());
        }
    }

    @Test
    void hostileInputEndsOnlyItsOwnConnection() {
        try (Client good = new Client(core).handshake(); Client bad = new Client(core).handshake();
                Client big = new Client(core).handshake(); Client garbage = new Client(core)) {
            good.go("disk");
            bad.go("disk");
            big.go("disk");
            bad.request(Nbd.CMD_READ, 0, 1, 0, 512, null);
            bad.simpleReply(1);
            bad.take(512);
            bad.send(Unpooled.buffer().writeInt(0xdeadbeef).writeZero(24));
            assertFalse(bad.ch.isActive(), "bad request magic");
            big.send(Unpooled.buffer().writeInt(Nbd.REQUEST_MAGIC).writeShort(0).writeShort(Nbd.CMD_WRITE).writeLong(1)
                    .writeLong(0).writeInt((32 << 20) + 512));
            assertFalse(big.ch.isActive(), "oversized write");
            garbage.take(18);
            garbage.send(Unpooled.wrappedBuffer(pattern(4096, 1)));
            assertFalse(garbage.ch.isActive(), "garbage instead of client flags");
            byte[] data = pattern(512, 5);
            good.request(Nbd.CMD_WRITE, 0, 2, 0, 512, data);
            assertEquals(0, good.simpleReply(2));
            assertTrue(good.ch.isActive());
            assertEquals(1, disk.open, "the nexuses of the closed connections are closed");
        }
    }

    @Test
    void optionHagglingIsBounded() {
        try (Client c = new Client(core).handshake()) {
            for (int i = 0; i < NbdConnection.MAX_OPTIONS; i++) {
                c.option(12345, Unpooled.EMPTY_BUFFER);
                assertEquals(Nbd.REP_ERR_UNSUP, c.reply(12345).type());
            }
            assertTrue(c.ch.isActive());
            c.option(12345, Unpooled.EMPTY_BUFFER);
            assertFalse(c.ch.isActive(), "option " + (NbdConnection.MAX_OPTIONS + 1) + " ends the connection");
        }
        try (Client c = new Client(core).handshake()) {
            c.send(Unpooled.buffer().writeLong(Nbd.IHAVEOPT).writeInt(Nbd.OPT_GO).writeInt(1 << 20));
            assertFalse(c.ch.isActive(), "an option longer than " + NbdConnection.MAX_OPTION_LENGTH);
        }
        try (Client c = new Client(core).handshake()) {
            c.send(Unpooled.buffer().writeLong(0x1234).writeInt(Nbd.OPT_GO).writeInt(0));
            assertFalse(c.ch.isActive(), "bad option magic");
        }
        try (Client c = new Client(core)) {
            c.take(18);
            c.ch.advanceTimeBy(16, TimeUnit.SECONDS);
            c.ch.runScheduledPendingTasks();
            assertFalse(c.ch.isActive(), "no export chosen within login_timeout (15 s)");
        }
    }

    @Test
    void unknownExportsAndOptionsAreRefusedInTheirOwnWay() {
        try (Client c = new Client(core).handshake()) {
            c.option(Nbd.OPT_GO, Client.nameAndRequests("nope"));
            assertEquals(Nbd.REP_ERR_UNKNOWN, c.reply(Nbd.OPT_GO).type());
            c.option(Nbd.OPT_SET_META_CONTEXT, Unpooled.buffer().writeInt(4).writeBytes("disk".getBytes(StandardCharsets.UTF_8)).writeInt(0));
            assertEquals(Nbd.REP_ERR_INVALID, c.reply(Nbd.OPT_SET_META_CONTEXT).type(), "before STRUCTURED_REPLY");
            c.option(Nbd.OPT_GO, Unpooled.buffer().writeInt(1000).writeShort(0));
            assertEquals(Nbd.REP_ERR_INVALID, c.reply(Nbd.OPT_GO).type(), "name length past the option");
            c.option(Nbd.OPT_INFO, Client.nameAndRequests(""));
            assertEquals(Nbd.REP_INFO, c.reply(Nbd.OPT_INFO).type(), "the only export is the default one");
            assertEquals(Nbd.REP_INFO, c.reply(Nbd.OPT_INFO).type());
            assertEquals(Nbd.REP_ACK, c.reply(Nbd.OPT_INFO).type());
            assertEquals(0, disk.open, "INFO closes its nexus");
            c.option(Nbd.OPT_EXPORT_NAME, Unpooled.copiedBuffer("nope", StandardCharsets.UTF_8));
            assertFalse(c.ch.isActive(), "EXPORT_NAME of an unknown export closes");
        }
        try (Client c = new Client(core).handshake()) {
            c.option(Nbd.OPT_EXPORT_NAME, Unpooled.copiedBuffer("disk", StandardCharsets.UTF_8));
            ByteBuf r = c.take(10);
            assertEquals(1 << 20, r.readLong());
            assertEquals(0, c.pending(), "NO_ZEROES: no 124 zero bytes");
            c.request(Nbd.CMD_DISC, 0, 1, 0, 0, null);
            assertFalse(c.ch.isActive());
            assertEquals(0, disk.open);
        }
        try (Client c = new Client(core).handshake()) {
            c.option(Nbd.OPT_ABORT, Unpooled.EMPTY_BUFFER);
            assertEquals(Nbd.REP_ACK, c.reply(Nbd.OPT_ABORT).type());
            assertFalse(c.ch.isActive());
        }
    }

    @Test
    void clientsOutsideTheAllowedAddressesAreNotServed() {
        try (Client c = new Client(core, "192.0.2.7")) {
            assertFalse(c.ch.isActive(), "default: loopback only");
            assertEquals(0, c.pending());
        }
        disk.parameters.put(AddressRanges.KEY, "192.0.2.0/24");
        try (Client c = new Client(core, "192.0.2.7").handshake()) {
            assertEquals(1 << 20, c.go("disk")[0]);
        }
    }

    @Test
    void requestsBeyondTheWindowAreNotReadUntilRepliesGoOut() {
        disk.parameters.put("cmdsn_window", "4");
        try (Client c = new Client(core).handshake()) {
            c.go("disk");
            disk.hold = true;
            int before = disk.commands;
            for (int i = 0; i < 6; i++) {
                c.request(Nbd.CMD_READ, 0, i, 0, 512, null);
            }
            assertEquals(4, disk.commands - before, "4 in flight");
            assertFalse(c.ch.config().isAutoRead(), "the connection stops reading");
            FakeCore.execute(disk, disk.held.remove(0));
            c.ch.runPendingTasks();
            assertEquals(5, disk.commands - before, "one reply lets one more in");
            while (!disk.held.isEmpty()) {
                FakeCore.execute(disk, disk.held.remove(0));
                c.ch.runPendingTasks();
            }
            disk.hold = false;
            for (int i = 0; i < 6; i++) {
                assertEquals(0, c.simpleReply(i));
                c.take(512);
            }
            assertTrue(c.ch.config().isAutoRead());
        }
    }

    @Test
    void anUnfetchedWriteBufferIsReleasedWhenTheCommandFails() {
        disk.hold = true;
        try (Client c = new Client(core).handshake()) {
            disk.hold = false;
            c.go("disk");
            disk.hold = true;
            c.request(Nbd.CMD_WRITE, 0, 1, 0, 512, new byte[512]);
            disk.held.remove(0).complete(new ScsiResponse(org.jtarget.scsi.ScsiStatus.BUSY, null, null, 0));
            assertEquals(Nbd.EIO, c.simpleReply(1));
        }
    }

    @Test
    void writesSplitAnywhereAcrossReadsLandIntactWhileEarlierOnesAreStillInFlight() {
        try (Client c = new Client(core).handshake()) {
            c.go("disk");
            disk.hold = true; // payloads stay unfetched while the bytes after them arrive
            ByteBuf stream = Unpooled.buffer();
            for (int i = 0; i < 5; i++) {
                byte[] data = pattern(4096, 11 * i + 1);
                stream.writeInt(Nbd.REQUEST_MAGIC).writeShort(0).writeShort(Nbd.CMD_WRITE).writeLong(100 + i)
                        .writeLong(8192L * i).writeInt(data.length).writeBytes(data);
            }
            // pieces that end inside a header, inside a payload, and hold the end of one request and a whole other
            for (int size : new int[] {5, 30, 1000, 4100 + 28 + 4096 + 2, 9, 3000, 6000}) {
                c.send(stream.readRetainedSlice(Math.min(size, stream.readableBytes())));
            }
            c.send(stream.readRetainedSlice(stream.readableBytes()));
            stream.release();
            assertEquals(5, disk.held.size());
            while (!disk.held.isEmpty()) {
                FakeCore.execute(disk, disk.held.remove(0));
                c.ch.runPendingTasks();
            }
            disk.hold = false;
            for (int i = 0; i < 5; i++) {
                assertEquals(0, c.simpleReply(100 + i));
            }
            for (int i = 0; i < 5; i++) {
                c.request(Nbd.CMD_READ, 0, 200 + i, 8192L * i, 4096, null);
                assertEquals(0, c.simpleReply(200 + i));
                assertArrayEquals(pattern(4096, 11 * i + 1), ByteBufUtilBytes.of(c.take(4096)), "write " + i);
            }
        }
    }
}
