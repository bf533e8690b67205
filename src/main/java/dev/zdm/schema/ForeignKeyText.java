package dev.zdm.schema;

import dev.zdm.pg.ConstraintInfo;
import dev.zdm.pg.SqlName;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A foreign key as pg_get_constraintdef prints it ({@code FOREIGN KEY (a, "B") REFERENCES s.t(x, y)
 * MATCH FULL ON UPDATE CASCADE ON DELETE SET NULL NOT VALID}): its columns, the table and columns it
 * references, and its ON UPDATE action. What the simulator needs to know which table an UPDATE of a key
 * column also locks. Identifiers are printed as quote_identifier prints them: bare, or in double quotes
 * with a quote doubled.
 */
public record ForeignKeyText(List<SqlName> columns, SqlName refTable, List<SqlName> refColumns,
                             ConstraintInfo.Action onUpdate) {

    private static final String IDENT = "(?:\"(?:[^\"]|\"\")+\"|[^\\s\"(),.]+)";
    private static final Pattern SHAPE = Pattern.compile("(?s)\\s*FOREIGN KEY\\s*\\((.*?)\\)\\s*REFERENCES\\s+("
            + IDENT + "(?:\\." + IDENT + ")?)\\s*\\((.*?)\\)(.*)");
    private static final Pattern ON_UPDATE = Pattern.compile("ON UPDATE (NO ACTION|RESTRICT|CASCADE|SET NULL|SET DEFAULT)");
    private static final Pattern ONE = Pattern.compile(IDENT);

    public ForeignKeyText {
        columns = List.copyOf(columns);
        refColumns = List.copyOf(refColumns);
    }

    /** Empty where the text is not a foreign key zdm can read (then the model knows no reference). */
    public static Optional<ForeignKeyText> parse(String definition) {
        if (definition == null) {
            return Optional.empty();
        }
        Matcher m = SHAPE.matcher(definition);
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            List<String> table = identifiers(m.group(2));
            SqlName ref = table.size() == 2 ? new SqlName(table.get(0), table.get(1)) : SqlName.of(table.get(0));
            Matcher action = ON_UPDATE.matcher(m.group(4));
            return Optional.of(new ForeignKeyText(names(m.group(1)), ref, names(m.group(3)),
                    action.find() ? ConstraintInfo.Action.ofWords(action.group(1)) : ConstraintInfo.Action.NO_ACTION));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    private static List<SqlName> names(String list) {
        return identifiers(list).stream().map(SqlName::of).toList();
    }

    private static List<String> identifiers(String text) {
        List<String> all = new ArrayList<>();
        Matcher m = ONE.matcher(text);
        while (m.find()) {
            String id = m.group();
            all.add(id.startsWith("\"") ? id.substring(1, id.length() - 1).replace("\"\"", "\"") : id);
        }
        return all;
    }
}
