package org.jtarget.config.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.Configuration;
import org.jtarget.api.TargetInfo;
import org.jtarget.api.TargetService;
import org.jtarget.api.TpgInfo;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.jtarget.spi.fabric.ChapCredentials;

/** Holds a tree: restore() replaces it, configuration() returns it. The admin calls are not needed here. */
final class FakeTargetService implements TargetService {
    volatile Configuration tree = new Configuration(List.of(), List.of());
    final List<Configuration> restored = new ArrayList<>();
    volatile List<String> problems = List.of();
    final AtomicInteger reads = new AtomicInteger();

    @Override
    public synchronized List<String> restore(Configuration configuration) {
        restored.add(configuration);
        tree = configuration;
        return problems;
    }

    @Override
    public Configuration configuration() {
        reads.incrementAndGet();
        return tree;
    }

    @Override
    public List<String> backstoreTypes() {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<ParameterDescriptor> backstoreParameters(String type) {
        throw new UnsupportedOperationException();
    }

    @Override
    public BackstoreInfo createBackstore(String name, String type, Map<String, String> parameters) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void deleteBackstore(String name, boolean destroyData) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void setBackstoreAttribute(String name, String key, String value) {
        throw new UnsupportedOperationException();
    }

    @Override
    public org.jtarget.api.ReservationInfo reservations(String backstore) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void clearReservations(String backstore) {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<BackstoreInfo> backstores() {
        return tree.backstores();
    }

    @Override
    public TargetInfo createTarget(String fabric, String name) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void deleteTarget(String name) {
        throw new UnsupportedOperationException();
    }

    @Override
    public List<TargetInfo> targets() {
        return tree.targets();
    }

    @Override
    public TargetInfo target(String name) {
        throw new UnsupportedOperationException();
    }

    @Override
    public TpgInfo createTpg(String target, int tag) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void deleteTpg(String target, int tag) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void setTpgAttribute(String target, int tag, String key, String value) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void addPortal(String target, int tag, String portal) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void removePortal(String target, int tag, String portal) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void addLun(String target, int tag, int lun, String backstore) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void removeLun(String target, int tag, int lun) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void addAcl(String target, int tag, String initiator) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void removeAcl(String target, int tag, String initiator) {
        throw new UnsupportedOperationException();
    }

    @Override
    public void setChap(String target, int tag, String initiator, ChapCredentials chap) {
        throw new UnsupportedOperationException();
    }
}
