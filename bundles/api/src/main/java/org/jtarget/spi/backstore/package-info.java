/**
 * Backstore SPI: what a storage backend implements. Modelled on LIO's target_backend_ops/exec_cmd_ops.
 *
 * <p>A provider ({@link org.jtarget.spi.backstore.BackstoreProvider}) is an OSGi service; it opens
 * {@link org.jtarget.spi.backstore.Backstore} objects asynchronously. See {@code Backstore} for the
 * contracts on threads, buffer ownership, completion and cancellation. Version 2.0 made open, close and
 * allocation status asynchronous, added limits, zero writing, busy and cancellation, and lets a read hand
 * back its own buffer. Version 2.1 lets a deallocation leave undefined contents
 * ({@code ThinProvisioning.readsZerosAfterUnmap}). Version 2.2 makes {@code BackstoreLimits.DEFAULT} declare no
 * atomic writes: a backstore declares them only when they stay whole across a crash. The contract test kit ({@code jtarget-backstore-testkit}) checks an implementation.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("2.2.0")
package org.jtarget.spi.backstore;
