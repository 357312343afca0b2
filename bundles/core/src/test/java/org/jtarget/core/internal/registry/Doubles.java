package org.jtarget.core.internal.registry;

import io.netty.buffer.ByteBuf;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.ArrayList;
import java.util.Collections;
import org.jtarget.core.internal.engine.LogicalUnit;
import org.jtarget.core.internal.engine.LunMap;
import org.jtarget.core.internal.engine.NexusInfo;
import org.jtarget.core.internal.engine.ScsiEngine;
import org.jtarget.scsi.TaskManagementFunction;
import org.jtarget.scsi.TaskManagementResponse;
import org.jtarget.spi.backstore.Backstore;
import org.jtarget.spi.backstore.BackstoreContext;
import org.jtarget.spi.backstore.BackstoreException;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.jtarget.scsi.SenseReason;
import org.jtarget.spi.fabric.FabricException;
import org.jtarget.spi.fabric.FabricModule;
import org.jtarget.spi.fabric.FabricSession;
import org.jtarget.spi.fabric.ScsiTask;

/** Test doubles of the engine, a backstore provider, a fabric and a fabric session. */
final class Doubles {
    private Doubles() {
    }

    static final class Engine implements ScsiEngine {
        final List<Unit> units = Collections.synchronizedList(new ArrayList<>());
        final List<FakeNexus> nexuses = Collections.synchronizedList(new ArrayList<>());

        @Override
        public LogicalUnit createLogicalUnit(String name, String serial) {
            Unit u = new Unit(name, serial);
            units.add(u);
            return u;
        }

        @Override
        public ScsiEngine.Nexus openNexus(NexusInfo info, LunMap luns, FabricSession fabricSession) {
            FakeNexus n = new FakeNexus(info, luns);
            nexuses.add(n);
            return n;
        }

        Unit unit(String name) {
            for (int i = units.size() - 1; i >= 0; i--) {
                if (units.get(i).name.equals(name)) {
                    return units.get(i);
                }
            }
            return null;
        }
    }

    static final class Unit implements LogicalUnit {
        final String name;
        final String serial;
        volatile Backstore backstore;
        int attaches;
        int detaches;
        /** ALUA state changes seen (the nexus given, or "all"). */
        final java.util.List<Object> accessStateChanges = new java.util.concurrent.CopyOnWriteArrayList<>();
        final org.jtarget.core.internal.alua.AluaGroups alua = new org.jtarget.core.internal.alua.AluaGroups(
                by -> accessStateChanges.add(by == null ? "all" : by));

        Unit(String name, String serial) {
            this.name = name;
            this.serial = serial;
        }

        @Override
        public String name() {
            return name;
        }

        @Override
        public String serial() {
            return serial;
        }

        @Override
        public void attach(Backstore b) {
            attaches++;
            backstore = b;
        }

        @Override
        public Backstore detach() {
            detaches++;
            Backstore b = backstore;
            backstore = null;
            return b;
        }

        @Override
        public CompletionStage<Void> drained() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public boolean online() {
            return backstore != null;
        }

        @Override
        public org.jtarget.core.internal.alua.AluaGroups alua() {
            return alua;
        }

        volatile org.jtarget.core.internal.engine.LuAttributes attributes =
                org.jtarget.core.internal.engine.LuAttributes.DEFAULT;

        @Override
        public void attributes(org.jtarget.core.internal.engine.LuAttributes a) {
            attributes = a;
        }

        @Override
        public org.jtarget.core.internal.engine.LuAttributes attributes() {
            return attributes;
        }

        volatile java.nio.file.Path reservationsFile;

        @Override
        public String persistReservations(java.nio.file.Path file) {
            reservationsFile = file;
            return null;
        }

        @Override
        public org.jtarget.api.ReservationInfo reservations() {
            return new org.jtarget.api.ReservationInfo(name, 0, 0, "none", false, java.util.List.of());
        }

        @Override
        public void clearReservations() {
        }
    }

    static final class FakeNexus implements ScsiEngine.Nexus {
        final NexusInfo info;
        final LunMap luns;
        int lunsChanged;
        boolean closed;

        FakeNexus(NexusInfo info, LunMap luns) {
            this.info = info;
            this.luns = luns;
        }

        @Override
        public NexusInfo info() {
            return info;
        }

        @Override
        public void lunsChanged() {
            lunsChanged++;
        }

        @Override
        public void submit(ScsiTask task) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<TaskManagementResponse> taskManagement(TaskManagementFunction f, long lun, long tag) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    static final class Provider implements BackstoreProvider {
        final String type;
        final List<BackstoreContext> opened = Collections.synchronizedList(new ArrayList<>());
        final List<BackstoreContext> destroyed = Collections.synchronizedList(new ArrayList<>());
        final List<Store> stores = Collections.synchronizedList(new ArrayList<>());
        volatile String failWith;

        Provider(String type) {
            this.type = type;
        }

        Map<String, Object> props() {
            return Map.of(TYPE_PROPERTY, type);
        }

        @Override
        public String type() {
            return type;
        }

        @Override
        public List<ParameterDescriptor> parameters() {
            return List.of(new ParameterDescriptor("file", "path of the image", true, null),
                    new ParameterDescriptor("size", "capacity", true, null),
                    new ParameterDescriptor("block_size", "512 or 4096", false, "512"));
        }

        @Override
        public CompletionStage<Backstore> open(BackstoreContext context) {
            if (failWith != null) {
                return CompletableFuture.failedFuture(
                        new BackstoreException(SenseReason.INVALID_FIELD_IN_PARAMETER_LIST, failWith));
            }
            opened.add(context);
            Store s = new Store(Integer.parseInt(context.parameter("block_size", "512")));
            stores.add(s);
            return CompletableFuture.completedFuture(s);
        }

        @Override
        public CompletionStage<Void> destroy(BackstoreContext context) {
            destroyed.add(context);
            return CompletableFuture.completedFuture(null);
        }
    }

    static final class Store implements Backstore {
        final int blockSize;
        volatile boolean closed;

        Store(int blockSize) {
            this.blockSize = blockSize;
        }

        @Override
        public int blockSize() {
            return blockSize;
        }

        @Override
        public long blockCount() {
            return 2048;
        }

        @Override
        public boolean writeCacheEnabled() {
            return false;
        }

        @Override
        public String productId() {
            return "test";
        }

        @Override
        public CompletionStage<Void> read(long lba, int blocks, ByteBuf dst) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<Void> write(long lba, ByteBuf src, boolean fua) {
            throw new UnsupportedOperationException();
        }

        @Override
        public CompletionStage<Void> flush() {
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public CompletionStage<Void> close() {
            closed = true;
            return CompletableFuture.completedFuture(null);
        }
    }

    static final class Fabric implements FabricModule {
        final List<InetSocketAddress> started = Collections.synchronizedList(new ArrayList<>());
        final List<InetSocketAddress> stopped = Collections.synchronizedList(new ArrayList<>());
        final Set<InetSocketAddress> refuse = new HashSet<>();

        Map<String, Object> props() {
            return Map.of(NAME_PROPERTY, "iscsi");
        }

        @Override
        public String name() {
            return "iscsi";
        }

        @Override
        public int protocolIdentifier() {
            return 5;
        }

        @Override
        public String validateTargetName(String name) {
            return name.startsWith("iqn.") ? null : "iSCSI names start with iqn. here";
        }

        @Override
        public void startPortal(InetSocketAddress address) throws FabricException {
            if (refuse.contains(address)) {
                throw new FabricException("Address already in use");
            }
            started.add(address);
        }

        @Override
        public void stopPortal(InetSocketAddress address) {
            stopped.add(address);
        }
    }

    static final class Session implements FabricSession {
        final String initiator;
        volatile boolean closed;

        Session(String initiator) {
            this.initiator = initiator;
        }

        @Override
        public String initiatorName() {
            return initiator;
        }

        @Override
        public byte[] transportId() {
            return new byte[0];
        }

        @Override
        public String initiatorPortName() {
            return initiator + ",i,0x23d000000001";
        }

        @Override
        public void close() {
            closed = true;
        }
    }
}
