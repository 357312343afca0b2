package org.jtarget.spi.backstore;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A backstore type (file, memory, block, nbd, s3, ...), registered as an OSGi service with the property
 * {@value #TYPE_PROPERTY} equal to {@link #type()}. The core finds providers on the service whiteboard;
 * when a provider leaves, the LUNs of its objects go offline (NOT READY) until it returns.
 *
 * <p>The core opens many objects at once when it restores a configuration (in parallel, a bounded number
 * at a time), so {@link #open} must not block: a provider that connects to a server does so on its own
 * threads and completes the stage when the object is ready.
 *
 * <p>Life cycle: when the provider service leaves (its bundle stopped, updated or removed from
 * {@code deploy/}), the core lets the commands already running on its objects finish (up to 30 s), closes
 * the objects ({@link Backstore#close()}) and answers their LUNs NOT READY, MANUAL INTERVENTION REQUIRED
 * (04h/03h); the objects stay in the configuration. When a provider of the type returns, the core calls
 * {@link #open} again with the same contexts, and the LUNs report MEDIUM MAY HAVE CHANGED once, then serve.
 */
@ConsumerType
public interface BackstoreProvider {
    /** Service property naming the type. */
    String TYPE_PROPERTY = "backstore.type";

    /** The type name users type in the shell, e.g. {@code file}. */
    String type();

    /** The parameters this type accepts, in the order help shows them. */
    List<ParameterDescriptor> parameters();

    /**
     * Opens (creating if needed) the storage of one backstore object. Called again with the same
     * context after a restart or after the provider bundle was updated, so it must not destroy data.
     * The stage fails with a {@link BackstoreException} whose message tells the user what is wrong
     * ({@code INVALID_FIELD_IN_PARAMETER_LIST} for bad parameters; another reason when the storage cannot
     * be reached, e.g. "server 127.0.0.1:10809 refused the connection"). The core retries a failed open
     * of a restored object later, so a provider reports an unreachable server as a failure, not a hang.
     *
     * @since 2.0 (asynchronous)
     */
    CompletionStage<Backstore> open(BackstoreContext context);

    /**
     * Removes what {@link #open} created for an object the user deleted (e.g. the file it created).
     * The object is closed first. The default keeps the data.
     *
     * @since 2.0 (asynchronous)
     */
    default CompletionStage<Void> destroy(BackstoreContext context) {
        return CompletableFuture.completedFuture(null);
    }
}
