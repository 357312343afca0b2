/**
 * The object registry: backstore objects, targets, TPGs, portals, LUNs and ACLs (LIO's configfs tree
 * without configfs). {@link org.jtarget.core.internal.registry.ObjectRegistry} implements the admin API
 * ({@link org.jtarget.api.TargetService}) and what fabrics need at login
 * ({@link org.jtarget.spi.fabric.TargetCore}). Mutations hold one lock; the per-command LUN lookup reads
 * immutable tables without locking.
 */
package org.jtarget.core.internal.registry;
