package org.jtarget.nbd.internal;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import org.jtarget.scsi.ScsiStatus;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.InitiatorAccess;
import org.jtarget.spi.fabric.ScsiResponse;
import org.jtarget.spi.fabric.ScsiSession;
import org.jtarget.spi.fabric.ScsiTask;
import org.jtarget.spi.fabric.TargetCore;
import org.jtarget.spi.fabric.TpgEndpoint;

/** A core with in-memory LUs (512-byte blocks) that answers the SCSI commands the NBD fabric sends. */
final class FakeCore implements TargetCore {
    static final int BS = 512;

    /** One export: its LU's bytes, which blocks are mapped, and switches the tests turn. */
    static final class Lu implements TpgEndpoint {
        final String name;
        final byte[] bytes;
        final BitSet mapped = new BitSet();
        final Map<String, String> parameters = new LinkedHashMap<>();
        boolean thin = true;
        boolean readOnly;
        boolean reserved;
        /** Commands are held, not answered, while true (back-pressure tests). */
        boolean hold;
        int unitAttentions;
        final List<ScsiTask> held = new ArrayList<>();
        final List<String> initiators = new ArrayList<>();
        int open;
        int commands;

        Lu(String name, int size) {
            this.name = name;
            this.bytes = new byte[size];
        }

        @Override
        public String targetName() {
            return name;
        }

        @Override
        public int tag() {
            return 1;
        }

        @Override
        public List<InetSocketAddress> portals() {
            return List.of();
        }

        @Override
        public Map<String, String> parameters() {
            return parameters;
        }

        @Override
        public Optional<InitiatorAccess> access(String initiatorName) {
            return Optional.of(InitiatorAccess.OPEN);
        }
    }

    final Map<String, Lu> lus = new LinkedHashMap<>();

    Lu add(String name, int size) {
        Lu lu = new Lu(name, size);
        lus.put(name, lu);
        return lu;
    }

    @Override
    public List<TpgEndpoint> discover(String fabric, InetSocketAddress local, String initiatorName) {
        return new ArrayList<>(lus.values());
    }

    @Override
    public List<TpgEndpoint> endpoints(String fabric, InetSocketAddress local) {
        return new ArrayList<>(lus.values());
    }

    @Override
    public Optional<TpgEndpoint> lookup(String fabric, String targetName, InetSocketAddress local) {
        return Optional.ofNullable(lus.get(targetName));
    }

    @Override
    public ScsiSession openSession(TpgEndpoint tpg, FabricSession initiator) throws FabricException {
        Lu lu = (Lu) tpg;
        lu.open++;
        lu.initiators.add(initiator.initiatorPortName());
        return new ScsiSession() {
            @Override
            public void submit(ScsiTask task) {
                lu.commands++;
                if (lu.hold) {
                    lu.held.add(task);
                } else {
                    execute(lu, task);
                }
            }

            @Override
            public CompletionStage<TaskManagementResponse> taskManagement(TaskManagementFunction f, long lun, long tag) {
                throw new UnsupportedOperationException();
            }

            @Override
            public void close() {
                lu.open--;
            }
        };
    }

    static ScsiResponse check(int key, int asc, int ascq) {
        byte[] sense = new byte[18];
        sense[0] = 0x70;
        sense[2] = (byte) key;
        sense[7] = 10;
        sense[12] = (byte) asc;
        sense[13] = (byte) ascq;
        return new ScsiResponse(ScsiStatus.CHECK_CONDITION, null, sense, 0);
    }

    static void execute(Lu lu, ScsiTask t) {
        byte[] c = t.cdb();
        int op = c[0] & 0xFF;
        long lba = c.length < 16 ? 0 : Unpooled.wrappedBuffer(c).getLong(2);
        int n = c.length < 16 ? 0 : Unpooled.wrappedBuffer(c).getInt(10);
        boolean writes = op == 0x8A || op == 0x93 || op == 0x42;
        if (lu.unitAttentions > 0 && op != 0x1A) {
            lu.unitAttentions--;
            t.complete(check(6, 0x29, 0x00));
            return;
        }
        if (writes && lu.reserved) {
            t.complete(new ScsiResponse(ScsiStatus.RESERVATION_CONFLICT, null, null, 0));
            return;
        }
        if (writes && lu.readOnly) {
            t.complete(check(7, 0x27, 0x00));
            return;
        }
        switch (op) {
            case 0x9E -> {
                if ((c[1] & 0x1F) == 0x10) {
                    ByteBuf d = Unpooled.buffer(32);
                    d.writeLong(lu.bytes.length / BS - 1).writeInt(BS).writeByte(0).writeByte(0).writeByte(lu.thin ? 0xC0 : 0);
                    d.writeZero(32 - d.writerIndex());
                    t.complete(new ScsiResponse(ScsiStatus.GOOD, d, null, 0));
                } else if (!lu.thin) {
                    t.complete(check(5, 0x20, 0x00));
                } else {
                    t.complete(new ScsiResponse(ScsiStatus.GOOD, lbaStatus(lu, lba), null, 0));
                }
            }
            case 0x1A -> t.complete(new ScsiResponse(ScsiStatus.GOOD,
                    Unpooled.buffer(4).writeByte(3).writeByte(0).writeByte(lu.readOnly ? 0x80 : 0).writeByte(0), null, 0));
            case 0x88 -> t.complete(new ScsiResponse(ScsiStatus.GOOD,
                    Unpooled.copiedBuffer(lu.bytes, (int) lba * BS, n * BS), null, 0));
            case 0x8A -> t.receiveData().thenAccept(d -> {
                d.getBytes(d.readerIndex(), lu.bytes, (int) lba * BS, n * BS);
                d.release();
                lu.mapped.set((int) lba, (int) lba + n);
                t.complete(ScsiResponse.good());
            });
            case 0x93 -> {
                java.util.Arrays.fill(lu.bytes, (int) lba * BS, (int) (lba + n) * BS, (byte) 0);
                if ((c[1] & 0x08) != 0) {
                    lu.mapped.clear((int) lba, (int) lba + n);
                } else {
                    lu.mapped.set((int) lba, (int) lba + n);
                }
                t.complete(ScsiResponse.good());
            }
            case 0x42 -> t.receiveData().thenAccept(d -> {
                long from = d.getLong(8);
                int count = d.getInt(16);
                d.release();
                java.util.Arrays.fill(lu.bytes, (int) from * BS, (int) (from + count) * BS, (byte) 0);
                lu.mapped.clear((int) from, (int) from + count);
                t.complete(ScsiResponse.good());
            });
            case 0x91 -> t.complete(ScsiResponse.good());
            case 0x90 -> t.complete(new ScsiResponse(ScsiStatus.CONDITION_MET, null, null, 0));
            default -> t.complete(check(5, 0x20, 0x00));
        }
    }

    /** GET LBA STATUS: runs of mapped (0) and deallocated (1) blocks from {@code lba}. */
    private static ByteBuf lbaStatus(Lu lu, long lba) {
        ByteBuf d = Unpooled.buffer();
        d.writeInt(0).writeInt(0);
        int blocks = lu.bytes.length / BS;
        int at = (int) lba;
        while (at < blocks && d.writerIndex() < 8 + 16 * 64) {
            boolean m = lu.mapped.get(at);
            int end = m ? lu.mapped.nextClearBit(at) : lu.mapped.nextSetBit(at);
            end = end < 0 || end > blocks ? blocks : end;
            d.writeLong(at).writeInt(end - at).writeByte(m ? 0 : 1).writeZero(3);
            at = end;
        }
        d.setInt(0, d.writerIndex() - 4);
        return d;
    }
}
