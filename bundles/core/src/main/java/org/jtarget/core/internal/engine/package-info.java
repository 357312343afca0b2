/**
 * The seam between the object model (registry: targets, TPGs, ACLs, backstore objects) and the SCSI
 * device server (command set, sessions, unit attentions, task management). The registry creates
 * {@link org.jtarget.core.internal.engine.LogicalUnit}s and opens nexuses through
 * {@link org.jtarget.core.internal.engine.ScsiEngine}; the engine never looks at the object model.
 */
package org.jtarget.core.internal.engine;
