/**
 * Gogo commands administering jtarget, one DS component per noun (backstore, target, tpg, portal, lun,
 * acl). Each is a thin layer over {@link org.jtarget.api.TargetService}: it parses its arguments, calls the
 * service, prints plain-text tables and turns refusals into a {@link org.jtarget.shell.internal.CommandFailure}.
 */
package org.jtarget.shell.internal;
