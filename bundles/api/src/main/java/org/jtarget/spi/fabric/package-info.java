/**
 * Fabric SPI: what a transport module (iSCSI, NBD, a loopback, ...) implements and what the core offers it.
 * Modelled on LIO's target_core_fabric_ops.
 *
 * <p>A fabric registers a {@link org.jtarget.spi.fabric.FabricModule} service (usually a Declarative
 * Services component with a mandatory reference to {@link org.jtarget.spi.fabric.TargetCore}); the core
 * then starts its portals. For each initiator it logs in, the fabric looks up the TPG
 * ({@link org.jtarget.spi.fabric.TargetCore#lookup}), checks its access, opens an I_T nexus
 * ({@link org.jtarget.spi.fabric.TargetCore#openSession}) and submits every command as a
 * {@link org.jtarget.spi.fabric.ScsiTask} to the {@link org.jtarget.spi.fabric.ScsiSession} it got.
 *
 * <h2>Threads</h2>
 * The core's objects ({@code TargetCore}, {@code TpgEndpoint}, {@code ScsiSession}) may be called from any
 * thread, concurrently; none of their methods blocks on I/O. The core calls the fabric's objects from its
 * own threads or from the thread that called it ({@link org.jtarget.spi.fabric.ScsiSession#submit} may
 * answer before it returns); a fabric must therefore not hold a lock of its own across a call into the
 * core that the core's callback would need. {@code FabricModule.startPortal} and {@code stopPortal} are
 * called while the core holds its configuration lock: they bind or unbind and return, and must not wait
 * for another thread that calls into the core.
 *
 * <h2>Completion</h2>
 * Every submitted task ends exactly once: either {@link org.jtarget.spi.fabric.ScsiTask#complete} with
 * a status, or {@link org.jtarget.spi.fabric.ScsiTask#aborted()}, never both; this holds for tasks
 * submitted after the session was closed too (they are aborted at once). Task management answers through
 * its stage once every task it aborted has ended.
 *
 * <h2>Buffers</h2>
 * Netty {@code ByteBuf}s change hands with their ownership: the Data-Out a fabric hands over through
 * {@link org.jtarget.spi.fabric.ScsiTask#receiveData()} is the core's to release (also when the command
 * was aborted meanwhile); the Data-In of a {@link org.jtarget.spi.fabric.ScsiResponse} given to
 * {@code complete} is the fabric's to release once sent (or dropped). Nobody else releases them.
 *
 * <h2>Cancellation</h2>
 * Commands are aborted by task management ({@link org.jtarget.spi.fabric.ScsiSession#taskManagement}),
 * by {@link org.jtarget.spi.fabric.ScsiSession#close()} or by a persistent reservation preempted with
 * abort; the fabric learns it from {@code aborted()} and sends no status for that task. A command whose
 * backstore does not answer is abandoned after a grace period (5 s) when task management asks, so an abort
 * always completes.
 *
 * <h2>Arrival and departure</h2>
 * When the fabric's service leaves (its bundle stopped, updated or removed from {@code deploy/}), the core
 * forgets its listeners but keeps its targets and their configuration; the fabric itself closes its
 * portals, its connections and every {@code ScsiSession} it opened. When it returns, the core starts its
 * portals again. Other fabrics and their sessions are not affected either way.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.1.0")
package org.jtarget.spi.fabric;
