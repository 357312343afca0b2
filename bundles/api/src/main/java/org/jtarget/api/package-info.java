/** Administration API: the object tree of backstores, targets, TPGs, portals, LUNs and ACLs. */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.2.0")
package org.jtarget.api;
