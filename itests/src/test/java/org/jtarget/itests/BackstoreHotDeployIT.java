package org.jtarget.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertFalse;
import static org.junit.Assert.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import javax.inject.Inject;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.LunInfo;
import org.jtarget.api.TargetService;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.fabric.FabricModule;
import org.junit.Before;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

/**
 * A backstore bundle leaves and returns while everything else keeps running: its objects and their LUNs go
 * offline and come back online; other backstores' LUNs are untouched, and no other service restarts.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BackstoreHotDeployIT {
    private static final String TARGET = "iqn.2026-11.org.jtarget.itest:hotdeploy";
    private static final String FILE_LOCATION = JtargetOptions.ourBundle("backstores/file/jtarget-backstore-file");

    @Inject
    private BundleContext context;
    private TargetService service;

    @Configuration
    public Option[] configuration() {
        return JtargetOptions.container("BackstoreHotDeployIT");
    }

    @Before
    public void tree() {
        service = Osgi.await(context, TargetService.class, null);
        Osgi.await(context, BackstoreProvider.class, "(backstore.type=file)");
        Osgi.await(context, BackstoreProvider.class, "(backstore.type=memory)");
        Osgi.eventually("the core sees both providers",
                () -> service.backstoreTypes().contains("file") && service.backstoreTypes().contains("memory"),
                service::backstoreTypes);
        if (service.backstores().stream().noneMatch(b -> b.name().equals("hotfile"))) {
            service.createBackstore("hotfile", "file", Map.of("file", "hot.img", "size", "8M"));
            service.createBackstore("hotram", "memory", Map.of("size", "8M"));
            service.createTarget("iscsi", TARGET);
            service.createTpg(TARGET, 1);
            service.addLun(TARGET, 1, 0, "hotfile");
            service.addLun(TARGET, 1, 1, "hotram");
        }
        Osgi.eventually("both backstores online", () -> state("hotfile") == BackstoreInfo.State.ONLINE
                && state("hotram") == BackstoreInfo.State.ONLINE, service::backstores);
    }

    @Test
    public void stoppingTheFileBundleTakesOnlyItsLunsOffline() throws Exception {
        Bundle file = fileBundle();
        long core = Osgi.serviceId(context, TargetService.class, null);
        long fabric = Osgi.serviceId(context, FabricModule.class, "(fabric.name=iscsi)");
        long memory = Osgi.serviceId(context, BackstoreProvider.class, "(backstore.type=memory)");

        file.stop();
        Osgi.eventually("hotfile goes offline", () -> state("hotfile") != BackstoreInfo.State.ONLINE, service::backstores);
        assertEquals(BackstoreInfo.State.OFFLINE, state("hotfile"));
        assertFalse("LUN 0 (file) is offline", lun(0).online());
        assertTrue("LUN 1 (memory) stays online", lun(1).online());
        assertEquals(BackstoreInfo.State.ONLINE, state("hotram"));
        assertFalse(service.backstoreTypes().contains("file"));
        assertTrue("the object and its parameters stay", Files.exists(image()));
        assertEquals("8M", info("hotfile").parameters().get("size"));

        file.start();
        Osgi.eventually("hotfile comes back online", () -> state("hotfile") == BackstoreInfo.State.ONLINE,
                service::backstores);
        Osgi.eventually("LUN 0 comes back online", () -> lun(0).online(), () -> service.target(TARGET));
        assertEquals(8L << 20, info("hotfile").blockSize() * info("hotfile").blockCount());
        assertEquals("the core was not restarted", core, Osgi.serviceId(context, TargetService.class, null));
        assertEquals("the fabric was not restarted", fabric,
                Osgi.serviceId(context, FabricModule.class, "(fabric.name=iscsi)"));
        assertEquals("the memory provider was not restarted", memory,
                Osgi.serviceId(context, BackstoreProvider.class, "(backstore.type=memory)"));
    }

    @Test
    public void uninstallingAndReinstallingTheFileBundle() throws Exception {
        long core = Osgi.serviceId(context, TargetService.class, null);
        fileBundle().uninstall();
        Osgi.eventually("hotfile goes offline", () -> state("hotfile") == BackstoreInfo.State.OFFLINE,
                service::backstores);
        assertFalse(lun(0).online());
        assertTrue(lun(1).online());
        assertFalse(info("hotfile").detail().isEmpty());

        Bundle again = context.installBundle(FILE_LOCATION);
        again.start();
        Osgi.eventually("hotfile comes back online", () -> state("hotfile") == BackstoreInfo.State.ONLINE,
                service::backstores);
        Osgi.eventually("LUN 0 comes back online", () -> lun(0).online(), () -> service.target(TARGET));
        assertTrue(lun(1).online());
        assertEquals("the core was not restarted", core, Osgi.serviceId(context, TargetService.class, null));
    }

    @Test
    public void droppingTheJarIntoDeployAndRemovingIt() throws Exception {
        long core = Osgi.serviceId(context, TargetService.class, null);
        fileBundle().uninstall();
        Osgi.eventually("hotfile goes offline", () -> state("hotfile") == BackstoreInfo.State.OFFLINE,
                service::backstores);

        Path deployed = Path.of(System.getProperty("jtarget.home"), "deploy", "jtarget-backstore-file.jar");
        copyInto(deployed);
        Osgi.eventually("FileInstall installs the dropped jar and hotfile comes back online",
                () -> state("hotfile") == BackstoreInfo.State.ONLINE && lun(0).online(), service::backstores);
        assertTrue(lun(1).online());

        Files.delete(deployed);
        Osgi.eventually("removing the jar takes hotfile offline", () -> state("hotfile") == BackstoreInfo.State.OFFLINE,
                service::backstores);
        assertFalse(lun(0).online());
        assertTrue("the memory LUN is untouched", lun(1).online());
        assertEquals("the core was not restarted", core, Osgi.serviceId(context, TargetService.class, null));

        // Leave the container as the other tests expect it: the bundle installed from the reactor, once
        // FileInstall has finished uninstalling (it stops the bundle first, which already took it offline).
        Osgi.eventually("FileInstall uninstalls the removed jar", () -> findFileBundle() == null, this::findFileBundle);
        context.installBundle(FILE_LOCATION).start();
        Osgi.eventually("hotfile online again", () -> state("hotfile") == BackstoreInfo.State.ONLINE,
                service::backstores);
    }

    /** Copies the reactor's jar in atomically: FileInstall must never see half a jar. */
    private static void copyInto(Path deployed) throws Exception {
        Path hidden = deployed.resolveSibling(".copying-" + deployed.getFileName()); // dot files are ignored
        Files.copy(Path.of(java.net.URI.create(FILE_LOCATION)), hidden, StandardCopyOption.REPLACE_EXISTING);
        Files.move(hidden, deployed, StandardCopyOption.ATOMIC_MOVE);
    }

    /** The file backstore bundle, whichever way it was installed (reactor file URI or FileInstall). */
    private Bundle fileBundle() {
        Bundle b = findFileBundle();
        if (b == null) {
            throw new AssertionError("file backstore bundle not installed");
        }
        return b;
    }

    private Bundle findFileBundle() {
        for (Bundle b : context.getBundles()) {
            if ("org.jtarget.backstore-file".equals(b.getSymbolicName()) && b.getState() != Bundle.UNINSTALLED) {
                return b;
            }
        }
        return null;
    }

    private Path image() {
        return Path.of(System.getProperty("jtarget.home"), "data", "hot.img");
    }

    private BackstoreInfo info(String name) {
        return service.backstores().stream().filter(b -> b.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no backstore " + name + " in " + service.backstores()));
    }

    private BackstoreInfo.State state(String name) {
        return info(name).state();
    }

    private LunInfo lun(int number) {
        return service.target(TARGET).tpgs().get(0).luns().stream().filter(l -> l.lun() == number).findFirst()
                .orElseThrow(() -> new AssertionError("no LUN " + number + " in " + service.target(TARGET)));
    }
}
