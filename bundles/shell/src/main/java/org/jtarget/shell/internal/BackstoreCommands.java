package org.jtarget.shell.internal;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.apache.felix.service.command.annotations.GogoCommand;
import org.jtarget.api.BackstoreInfo;
import org.jtarget.api.TargetService;
import org.jtarget.spi.backstore.ParameterDescriptor;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

/** {@code backstore:*}: the storage objects LUNs map (LIO's core/$HBA/$DEV). */
@Component(service = BackstoreCommands.class)
@GogoCommand(scope = "backstore", function = {"types", "list", "create", "delete", "set", "unset"})
public final class BackstoreCommands {
    private final TargetService service;

    @Activate
    public BackstoreCommands(@Reference TargetService service) {
        this.service = service;
    }

    @Descriptor("lists the backstore types deployed now, with each type's parameters and defaults")
    public void types() {
        List<String> types = Args.call(service::backstoreTypes);
        if (types.isEmpty()) {
            System.out.println("No backstore type is deployed (copy a jtarget-backstore-* bundle into deploy/).");
            return;
        }
        StringBuilder out = new StringBuilder();
        for (String type : types.stream().sorted().collect(Collectors.toList())) {
            if (out.length() > 0) {
                out.append('\n');
            }
            out.append(type).append('\n');
            Table table = new Table("PARAMETER", "REQUIRED", "DEFAULT", "DESCRIPTION");
            for (ParameterDescriptor p : Args.call(() -> service.backstoreParameters(type))) {
                table.row(p.name(), p.required() ? "yes" : "no", p.defaultValue(), p.description());
            }
            table.toString().lines().forEach(line -> out.append("  ").append(line).append('\n'));
        }
        System.out.print(out);
    }

    @Descriptor("lists the backstores: type, state, size, parameters (secrets masked) and attributes")
    public void list() {
        Table table = new Table("NAME", "TYPE", "STATE", "SIZE>", "BLOCK>", "SERIAL", "PARAMETERS", "ATTRIBUTES",
                "DETAIL");
        for (BackstoreInfo b : sortedBackstores()) {
            table.row(b.name(), b.type(), b.state().name().toLowerCase(), Args.size(b.blockSize() * b.blockCount()),
                    b.blockSize() == 0 ? "" : Integer.toString(b.blockSize()), b.serial(),
                    parameters(b.parameters()), parameters(b.attributes()), b.detail());
        }
        System.out.print(table);
    }

    @Descriptor("sets a logical unit attribute of a backstore, live: read_only or removable (true/false), "
            + "physical_block_size (bytes)")
    public void set(
            @Descriptor("NAME: backstore name") String name,
            @Descriptor("KEY: read_only (writes get DATA PROTECT), removable (RMB, eject/load, prevent) or "
                    + "physical_block_size (reported physical block, e.g. 4096)") String key,
            @Descriptor("VALUE: true or false; bytes for physical_block_size") String value) {
        Args.run(() -> service.setBackstoreAttribute(name, key, value));
        System.out.println("Backstore " + name + ": " + key + " = " + value);
    }

    @Descriptor("resets a logical unit attribute of a backstore to its default")
    public void unset(
            @Descriptor("NAME: backstore name") String name,
            @Descriptor("KEY: read_only, removable or physical_block_size") String key) {
        Args.run(() -> service.setBackstoreAttribute(name, key, null));
        System.out.println("Backstore " + name + ": " + key + " reset to its default");
    }

    /** The attributes set to true, as {@code  [read_only, removable]}, or empty. */
    static String flags(Map<String, String> attributes) {
        String set = new TreeMap<>(attributes).entrySet().stream().filter(e -> "true".equals(e.getValue()))
                .map(Map.Entry::getKey).collect(Collectors.joining(", "));
        return set.isEmpty() ? "" : "  [" + set + "]";
    }

    @Descriptor("creates a backstore; see backstore:types for each type's parameters")
    public void create(
            @Descriptor("NAME: backstore name, e.g. disk1") String name,
            @Descriptor("TYPE: backstore type, e.g. file or memory (see backstore:types)") String typeArgument,
            @Descriptor("KEY=VALUE...: the type's parameters, e.g. file=disk1.img size=10G") String... parameters) {
        // Gogo reads the bare word null as Java's null; TYPE is required, so that can only be a type named null
        // (the null backstore of examples/, or anybody's)
        String type = typeArgument == null ? "null" : typeArgument;
        Map<String, String> params = Args.keyValues(List.of(parameters));
        checkType(type, params);
        BackstoreInfo b = Args.call(() -> service.createBackstore(name, type, params));
        System.out.println("Created backstore " + b.name() + " (type " + b.type() + ", "
                + (b.blockCount() > 0 ? Args.size(b.blockSize() * b.blockCount()) + ", " : "")
                + b.state().name().toLowerCase() + (b.detail().isEmpty() ? "" : ": " + b.detail()) + ")");
    }

    @Descriptor("deletes a backstore that no LUN uses")
    public void delete(
            @Descriptor("also remove its data (e.g. the backing file)")
            @Parameter(names = {"-d", "--destroy"}, presentValue = "true", absentValue = "false") boolean destroy,
            @Descriptor("NAME: backstore name") String name) {
        Args.run(() -> service.deleteBackstore(name, destroy));
        System.out.println("Deleted backstore " + name + (destroy ? " and its data" : " (data kept)"));
    }

    private List<BackstoreInfo> sortedBackstores() {
        return Args.call(service::backstores).stream()
                .sorted((a, b) -> a.name().compareTo(b.name()))
                .collect(Collectors.toList());
    }

    /** Refuses an absent type and unknown or missing parameters before asking the service. */
    private void checkType(String type, Map<String, String> params) {
        List<String> types = Args.call(service::backstoreTypes);
        if (!types.contains(type)) {
            throw new CommandFailure("backstore type: " + type + (types.isEmpty()
                    ? " (no backstore type is deployed; copy a jtarget-backstore-* bundle into deploy/)"
                    : " (expected one of: " + String.join(", ", types.stream().sorted().toList()) + ")"));
        }
        List<ParameterDescriptor> descriptors = Args.call(() -> service.backstoreParameters(type));
        Set<String> known = descriptors.stream().map(ParameterDescriptor::name).collect(Collectors.toSet());
        for (String key : params.keySet()) {
            if (!known.contains(key)) {
                throw new CommandFailure("parameter " + key + ": not a parameter of type " + type + " (expected one of: "
                        + descriptors.stream().map(ParameterDescriptor::name).collect(Collectors.joining(", ")) + ")");
            }
        }
        for (ParameterDescriptor d : descriptors) {
            if (d.required() && !params.containsKey(d.name())) {
                throw new CommandFailure("parameter " + d.name() + ": missing (required by type " + type + ": "
                        + d.description() + ")");
            }
        }
    }

    /** Parameters as one word, {@code key=value,key=value}, secrets masked. */
    static String parameters(Map<String, String> parameters) {
        return new TreeMap<>(parameters).entrySet().stream()
                .map(e -> e.getKey() + "=" + Args.shown(e.getKey(), e.getValue()))
                .collect(Collectors.joining(","));
    }
}
