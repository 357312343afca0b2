package org.jtarget.api;

import java.util.List;
import java.util.Map;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.jtarget.spi.fabric.ChapCredentials;
import org.osgi.annotation.versioning.ProviderType;

/**
 * Administration of the object tree: backstores, targets, TPGs, portals, LUNs and ACLs. Implemented by
 * the core; used by the shell and the configuration store alike. Every change takes effect at once,
 * while I/O runs, and then notifies {@link TargetServiceListener}s. Methods throw
 * {@link TargetException} with a message for the user when a request is refused; nothing changes then.
 * Implemented by the core alone (a provider type): new methods are minor changes of the package.
 */
@ProviderType
public interface TargetService {
    /** TPG attribute: "true" lets any initiator in without an ACL (LIO demo mode). Default "false". */
    String ATTR_GENERATE_NODE_ACLS = "generate_node_acls";
    /** TPG attribute: "none" or "chap" (initiators must authenticate with their ACL's secrets). Default "none". */
    String ATTR_AUTHENTICATION = "authentication";
    /**
     * Backstore (logical unit) attribute: "true" write-protects the LU: every command that would change
     * the medium ends in DATA PROTECT / WRITE PROTECTED, and MODE SENSE reports WP. Default "false".
     */
    String ATTR_READ_ONLY = "read_only";
    /**
     * Backstore (logical unit) attribute: "true" makes the medium removable: INQUIRY reports RMB, PREVENT
     * ALLOW MEDIUM REMOVAL is honoured and START STOP UNIT can eject and load it. Default "false".
     */
    String ATTR_REMOVABLE = "removable";
    /**
     * Backstore (logical unit) attribute: the physical block size in bytes to report (READ CAPACITY(16)
     * LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT), a power of two from 512 to 1 MiB, e.g. "4096" so that
     * initiators align I/O to the 4 KiB blocks of the storage beneath. Default: the logical block size.
     */
    String ATTR_PHYSICAL_BLOCK_SIZE = "physical_block_size";

    // backstores

    /** Types whose provider is present now. */
    List<String> backstoreTypes();

    /** The parameters of a present type. */
    List<ParameterDescriptor> backstoreParameters(String type);

    /** Creates and opens a backstore object; its type's provider must be present. */
    BackstoreInfo createBackstore(String name, String type, Map<String, String> parameters);

    /**
     * Deletes a backstore object that no LUN uses.
     *
     * @param destroyData also remove what its provider created (e.g. the file)
     */
    void deleteBackstore(String name, boolean destroyData);

    List<BackstoreInfo> backstores();

    /**
     * Sets (or with a null value, removes, i.e. resets to the default) an attribute of a backstore
     * object, live: sessions see it at their next command, with the unit attention the standard asks
     * for. Keys: {@link #ATTR_READ_ONLY}, {@link #ATTR_REMOVABLE} (values "true"/"false"),
     * {@link #ATTR_PHYSICAL_BLOCK_SIZE} (bytes); any other key or value is refused.
     *
     * @since 1.1
     */
    void setBackstoreAttribute(String name, String key, String value);

    /**
     * The persistent reservation of a backstore object (logical unit): its registrations with their I_T
     * nexus and TransportID, the holder and type, PRGENERATION and APTPL.
     *
     * @since 1.2
     */
    ReservationInfo reservations(String backstore);

    /**
     * The administrator's override of SPC-4 persistent reservations: removes every registration and the
     * reservation of a backstore object, as a PERSISTENT RESERVE OUT CLEAR would (every registered I_T
     * nexus gets the unit attention RESERVATIONS PREEMPTED; PRGENERATION counts it). With APTPL the
     * cleared state is saved. Use it to free a disk a fenced cluster left reserved.
     *
     * @since 1.2
     */
    void clearReservations(String backstore);

    // targets and TPGs

    /** Creates a target served by {@code fabric} (which need not be present yet) with no TPG. */
    TargetInfo createTarget(String fabric, String name);

    /** Deletes a target with its TPGs; its sessions are closed. */
    void deleteTarget(String name);

    List<TargetInfo> targets();

    TargetInfo target(String name);

    TpgInfo createTpg(String target, int tag);

    void deleteTpg(String target, int tag);

    /** Sets (or with a null value, removes) a TPG attribute. */
    void setTpgAttribute(String target, int tag, String key, String value);

    // portals, LUNs, ACLs

    /** Adds a portal ({@code host:port}); listening starts at once when the fabric is present. */
    void addPortal(String target, int tag, String portal);

    void removePortal(String target, int tag, String portal);

    /** Maps a backstore object as a LUN; sessions of the TPG get REPORTED LUNS DATA HAS CHANGED. */
    void addLun(String target, int tag, int lun, String backstore);

    void removeLun(String target, int tag, int lun);

    void addAcl(String target, int tag, String initiator);

    /** Removes an ACL and closes that initiator's sessions on the TPG. */
    void removeAcl(String target, int tag, String initiator);

    /** Sets an ACL's CHAP secrets, or clears them with null. */
    void setChap(String target, int tag, String initiator, ChapCredentials chap);

    // ALUA target port groups (SPC-4 5.15)

    /**
     * Creates an ALUA target port group of a backstore's logical unit, active/optimized, implicit and explicit.
     *
     * @param id TARGET PORT GROUP, 1..65535, unique within the backstore's groups
     * @since 1.2
     */
    default void createAluaGroup(String backstore, String group, int id) {
        throw new TargetException("ALUA is not supported by " + getClass().getName());
    }

    /** Deletes a group no LUN is mapped to; the default group stays. @since 1.2 */
    default void deleteAluaGroup(String backstore, String group) {
        throw new TargetException("ALUA is not supported by " + getClass().getName());
    }

    /**
     * Changes a group, live. Keys: {@code state} ({@link AluaGroupInfo#ACTIVE_OPTIMIZED}, ...: the group passes
     * through transitioning and every I_T nexus of the LU gets ASYMMETRIC ACCESS STATE CHANGED), {@code preferred}
     * ("true"/"false"), {@code mode} ({@link AluaGroupInfo#IMPLICIT}, {@link AluaGroupInfo#EXPLICIT},
     * {@link AluaGroupInfo#BOTH}).
     *
     * @since 1.2
     */
    default void setAluaGroup(String backstore, String group, String key, String value) {
        throw new TargetException("ALUA is not supported by " + getClass().getName());
    }

    /** Sets the group through which TPG {@code tag} of {@code target} reaches the LU at {@code lun}. @since 1.2 */
    default void mapAluaGroup(String target, int tag, int lun, String group) {
        throw new TargetException("ALUA is not supported by " + getClass().getName());
    }

    // persistence

    /** The whole tree, for saving. */
    Configuration configuration();

    /**
     * Adds the objects of a saved tree, tolerating what cannot be served yet: a backstore whose provider
     * is absent is kept OFFLINE and opened when the provider arrives; a portal that cannot be bound is
     * kept and reported.
     *
     * @return one line per object that could not be restored or started, for the log; empty when all went well
     */
    List<String> restore(Configuration configuration);
}
