package org.jtarget.itests;

import static org.junit.Assert.fail;

import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

/** Waiting for services and states inside the container, with a timeout and a message saying what was awaited. */
final class Osgi {
    static final long TIMEOUT_MS = 20_000;

    private Osgi() {
    }

    /** The service of {@code type} matching {@code filter} (or any, when null), waiting for it to appear. */
    static <T> T await(BundleContext context, Class<T> type, String filter) {
        String f = "(&(objectClass=" + type.getName() + ")" + (filter == null ? "" : filter) + ")";
        ServiceTracker<T, T> tracker;
        try {
            Filter parsed = FrameworkUtil.createFilter(f);
            tracker = new ServiceTracker<>(context, parsed, null);
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(f, e);
        }
        tracker.open();
        try {
            T service = tracker.waitForService(TIMEOUT_MS);
            if (service == null) {
                fail("no service " + f + " within " + TIMEOUT_MS + " ms");
            }
            return service;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        } finally {
            tracker.close();
        }
    }

    /** The service id of the service matching {@code filter}, or -1 when there is none. */
    static long serviceId(BundleContext context, Class<?> type, String filter) {
        try {
            ServiceReference<?>[] refs = context.getServiceReferences(type.getName(), filter);
            return refs == null ? -1 : (Long) refs[0].getProperty("service.id");
        } catch (InvalidSyntaxException e) {
            throw new IllegalArgumentException(filter, e);
        }
    }

    /** Polls {@code condition} until it holds; fails with {@code state}'s description of what was seen last. */
    static void eventually(String what, BooleanSupplier condition, Supplier<Object> state) {
        long deadline = System.currentTimeMillis() + TIMEOUT_MS;
        while (!condition.getAsBoolean()) {
            if (System.currentTimeMillis() > deadline) {
                fail(what + " did not happen within " + TIMEOUT_MS + " ms; last seen: " + state.get());
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
    }
}
