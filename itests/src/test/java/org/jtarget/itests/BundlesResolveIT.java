package org.jtarget.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import java.util.ArrayList;
import java.util.List;
import javax.inject.Inject;
import org.jtarget.api.TargetService;
import org.jtarget.spi.backstore.BackstoreProvider;
import org.jtarget.spi.fabric.FabricModule;
import org.jtarget.spi.fabric.TargetCore;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;

/** Every bundle of a jtarget instance resolves and starts, and each registers the services it promises. */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class BundlesResolveIT {
    @Inject
    private BundleContext context;

    @Configuration
    public Option[] configuration() {
        return JtargetOptions.container("BundlesResolveIT");
    }

    @Test
    public void everyBundleIsActive() {
        List<String> problems = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
            boolean lazy = Constants.ACTIVATION_LAZY.equals(b.getHeaders().get(Constants.BUNDLE_ACTIVATIONPOLICY));
            int state = b.getState();
            boolean ok = fragment ? state == Bundle.RESOLVED
                    : state == Bundle.ACTIVE || (lazy && state == Bundle.STARTING);
            if (!ok) {
                problems.add(b.getSymbolicName() + " " + b.getVersion() + ": " + stateName(state));
            }
        }
        assertTrue("bundles not active: " + problems, problems.isEmpty());
    }

    @Test
    public void ourBundlesAreInstalled() {
        List<String> missing = new ArrayList<>();
        for (String module : JtargetOptions.OUR_BUNDLES) {
            if (context.getBundle(JtargetOptions.ourBundle(module)) == null) {
                missing.add(module);
            }
        }
        assertEquals("reactor bundles missing from the container", List.of(), missing);
    }

    @Test
    public void coreServicesAppear() {
        TargetService service = Osgi.await(context, TargetService.class, null);
        assertNotNull(Osgi.await(context, TargetCore.class, null));
        assertNotNull(service.targets());
    }

    @Test
    public void iscsiFabricAppears() {
        FabricModule iscsi = Osgi.await(context, FabricModule.class, "(fabric.name=iscsi)");
        assertNotNull(iscsi);
    }

    /** The NBD export fabric registers, and the core takes targets of it (issue 9). */
    @Test
    public void nbdFabricAppears() {
        FabricModule nbd = Osgi.await(context, FabricModule.class, "(fabric.name=nbd)");
        assertNotNull(nbd);
        TargetService service = Osgi.await(context, TargetService.class, null);
        Osgi.eventually("the core takes a target of fabric nbd", () -> {
            try {
                return "nbd".equals(service.createTarget("nbd", "itest-export").fabric());
            } catch (RuntimeException notYet) {
                return false;
            }
        }, service::targets);
        service.deleteTarget("itest-export");
    }

    @Test
    public void fileAndMemoryBackstoresAppear() {
        assertEquals("file", Osgi.await(context, BackstoreProvider.class, "(backstore.type=file)").type());
        assertEquals("memory", Osgi.await(context, BackstoreProvider.class, "(backstore.type=memory)").type());
        TargetService service = Osgi.await(context, TargetService.class, null);
        Osgi.eventually("the core sees both backstore types",
                () -> service.backstoreTypes().containsAll(List.of("file", "memory")), service::backstoreTypes);
    }

    private static String stateName(int state) {
        switch (state) {
            case Bundle.INSTALLED: return "INSTALLED (unresolved)";
            case Bundle.RESOLVED: return "RESOLVED (not started)";
            case Bundle.STARTING: return "STARTING";
            case Bundle.STOPPING: return "STOPPING";
            case Bundle.ACTIVE: return "ACTIVE";
            default: return "UNINSTALLED";
        }
    }
}
