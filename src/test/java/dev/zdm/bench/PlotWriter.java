package dev.zdm.bench;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.AnnotationLine;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.XYStyler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * One PNG per operation: the application's query latencies over time, naive run on top, zdm run
 * below, one point per query, coloured by kind (reads, updates and inserts are stopped by different
 * locks). Time is seconds from the operation's start, and vertical lines mark its start and end, so
 * the eye sees at once what the application felt while it ran. Both panels share one logarithmic
 * latency axis, so a naive stall of seconds and a zdm blip of milliseconds are on the same scale.
 */
final class PlotWriter {

    static final int WIDTH = 1100;
    static final int PANEL_HEIGHT = 420;
    /** Latencies are clamped to this floor so the log axis has a bottom; no query is that fast. */
    static final double FLOOR_MS = 0.05;
    private static final Map<QueryKind, Color> COLORS = Map.of(
            QueryKind.READ, new Color(0x1f77b4), QueryKind.UPDATE, new Color(0xd62728),
            QueryKind.INSERT, new Color(0x2ca02c), QueryKind.TPCB, new Color(0x9467bd));

    private PlotWriter() {
    }

    /** Writes {@code <operation>.png} for each operation into {@code dir}; answers operation → file name. */
    static Map<String, String> write(Path dir, List<TrialResult> results) throws IOException {
        Map<String, List<TrialResult>> byOperation = new LinkedHashMap<>();
        for (TrialResult r : results) {
            byOperation.computeIfAbsent(r.pair().name(), k -> new ArrayList<>()).add(r);
        }
        Map<String, String> files = new LinkedHashMap<>();
        for (var entry : byOperation.entrySet()) {
            String file = entry.getKey() + ".png";
            writePair(dir.resolve(file), entry.getValue());
            files.put(entry.getKey(), file);
        }
        return files;
    }

    private static void writePair(Path file, List<TrialResult> trials) throws IOException {
        double max = FLOOR_MS * 10;
        for (TrialResult t : trials) {
            for (LatencyRecorder.Sample s : t.samples()) {
                max = Math.max(max, s.latencyMs());
            }
        }
        // A decade of headroom rounded up, so both panels end on the same round number.
        double top = Math.pow(10, Math.ceil(Math.log10(max * 1.5)));
        BufferedImage image = new BufferedImage(WIDTH, PANEL_HEIGHT * trials.size(), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        for (int i = 0; i < trials.size(); i++) {
            g.drawImage(BitmapEncoder.getBufferedImage(chart(trials.get(i), top)), 0, i * PANEL_HEIGHT, null);
        }
        g.dispose();
        ImageIO.write(image, "png", file.toFile());
    }

    private static XYChart chart(TrialResult t, double topMs) {
        double opSeconds = (t.opEndNanos() - t.opStartNanos()) / 1e9;
        XYChart chart = new XYChartBuilder().width(WIDTH).height(PANEL_HEIGHT)
                .title(String.format("%s, %s: %s (%.1f s)", t.pair().name(), t.way().label,
                        abbreviate(shortStatement(t)), opSeconds))
                .xAxisTitle("seconds from the operation's start (lines: its start and end)")
                .yAxisTitle("app query latency, ms (log)").build();
        XYStyler styler = chart.getStyler();
        styler.setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        styler.setYAxisLogarithmic(true);
        styler.setYAxisMin(FLOOR_MS);
        styler.setYAxisMax(topMs);
        styler.setMarkerSize(3);
        styler.setLegendPosition(Styler.LegendPosition.InsideNW);
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setAnnotationLineColor(Color.DARK_GRAY);
        for (QueryKind kind : QueryKind.values()) {
            List<Double> xs = new ArrayList<>();
            List<Double> ys = new ArrayList<>();
            for (LatencyRecorder.Sample s : t.samples()) {
                if (s.kind() == kind) {
                    xs.add((s.startNanos() - t.opStartNanos()) / 1e9);
                    ys.add(Math.max(FLOOR_MS, s.latencyMs()));
                }
            }
            if (!xs.isEmpty()) {
                XYSeries series = chart.addSeries(kind.name().toLowerCase() + "s", xs, ys);
                series.setMarker(SeriesMarkers.CIRCLE);
                series.setMarkerColor(COLORS.get(kind));
            }
        }
        chart.addAnnotation(vertical(0));
        chart.addAnnotation(vertical(opSeconds));
        return chart;
    }

    private static AnnotationLine vertical(double x) {
        return new AnnotationLine(x, true, false);
    }

    /** The request without what every request carries (type, lock budget), so the title shows what differs. */
    private static String shortStatement(TrialResult t) {
        return t.way() == Way.NAIVE ? t.statement()
                : t.statement().replaceAll("\"(type|max_lock_duration_ms|table)\":(\"[^\"]*\"|\\d+),?", "");
    }

    private static String abbreviate(String text) {
        return text.length() <= 90 ? text : text.substring(0, 87) + "...";
    }
}
