package org.jtarget.spi.backstore;

import java.util.List;
import org.osgi.annotation.versioning.ConsumerType;

/**
 * A backstore type (file, memory, block, ...), registered as an OSGi service with the property
 * {@value #TYPE_PROPERTY} equal to {@link #type()}. The core finds providers on the service whiteboard;
 * when a provider leaves, the LUNs of its objects go offline (NOT READY) until it returns.
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
     *
     * @throws BackstoreException with {@code INVALID_FIELD_IN_PARAMETER_LIST} for bad parameters
     *     (the message is shown to the user), or another reason when the storage cannot be opened
     */
    Backstore open(BackstoreContext context) throws BackstoreException;

    /**
     * Removes what {@link #open} created for an object the user deleted (e.g. the file it created).
     * The object is closed first. The default keeps the data.
     */
    default void destroy(BackstoreContext context) throws BackstoreException {
    }
}
