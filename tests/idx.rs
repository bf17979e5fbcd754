//! The IDX reader on hand-made files (every way a file can be wrong), and loading the real datasets.

use std::io::Write;
use std::sync::Mutex;

use advlab::data::dataset::{self, dataset_dir, load, DatasetName, Split};
use advlab::data::idx::{parse_idx, parse_images, parse_labels, IdxU8, MAX_IDX_BYTES};
use advlab::data::{class_names, Dataset};
use advlab::Error;
use flate2::write::GzEncoder;
use flate2::Compression;

/// Tests that read or change `ADVLAB_DATA` hold this lock.
static ENV: Mutex<()> = Mutex::new(());

fn header(magic: u32, dims: &[u32]) -> Vec<u8> {
    let mut out = magic.to_be_bytes().to_vec();
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out
}

fn images_file(n: u32, rows: u32, cols: u32) -> (Vec<u8>, Vec<u8>) {
    let data: Vec<u8> = (0..n * rows * cols).map(|i| (i * 7 % 256) as u8).collect();
    let mut file = header(0x0803, &[n, rows, cols]);
    file.extend_from_slice(&data);
    (file, data)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// Unwraps an `Error::Idx` and returns its message; fails on anything else.
fn idx_err<T: std::fmt::Debug>(r: advlab::Result<T>) -> String {
    match r {
        Err(Error::Idx(m)) => m,
        other => panic!("expected Error::Idx, got {other:?}"),
    }
}

#[test]
fn images_roundtrip_raw_and_gzip() {
    let (file, data) = images_file(3, 4, 5);
    for bytes in [file.clone(), gzip(&file)] {
        let (n, rows, cols, px) = parse_images(&bytes).unwrap();
        assert_eq!((n, rows, cols), (3, 4, 5));
        assert_eq!(px, data);
    }
    let idx = parse_idx(&file).unwrap();
    assert_eq!(idx.dims, vec![3, 4, 5]);
    assert_eq!(idx.magic(), 0x0803);
    assert_eq!(idx.to_bytes().unwrap(), file);
}

#[test]
fn labels_roundtrip_raw_and_gzip() {
    let labels = vec![7u8, 2, 1, 0, 4, 1, 4, 9, 5, 9];
    let mut file = header(0x0801, &[10]);
    file.extend_from_slice(&labels);
    assert_eq!(parse_labels(&file).unwrap(), labels);
    assert_eq!(parse_labels(&gzip(&file)).unwrap(), labels);
    let built = IdxU8 {
        dims: vec![10],
        data: labels.clone(),
    }
    .to_bytes()
    .unwrap();
    assert_eq!(built, file);
}

#[test]
fn zero_images_is_a_valid_empty_file() {
    let (file, _) = images_file(0, 28, 28);
    assert_eq!(parse_images(&file).unwrap(), (0, 28, 28, vec![]));
}

#[test]
fn wrong_magic_names_expected_and_actual() {
    let mut labels = header(0x0801, &[2]);
    labels.extend_from_slice(&[1, 2]);
    let m = idx_err(parse_images(&labels));
    assert!(m.contains("0x00000803") && m.contains("0x00000801"), "{m}");
    let (images, _) = images_file(1, 2, 2);
    let m = idx_err(parse_labels(&images));
    assert!(m.contains("0x00000801") && m.contains("0x00000803"), "{m}");
    // Not an IDX file at all (a PNG signature).
    let m = idx_err(parse_idx(b"\x89PNG\r\n\x1a\n0000"));
    assert!(m.contains("0x89504E47"), "{m}");
}

#[test]
fn only_unsigned_byte_data_is_read() {
    let mut f32_file = header(0x0D03, &[1, 1, 1]);
    f32_file.extend_from_slice(&1.0f32.to_be_bytes());
    let m = idx_err(parse_idx(&f32_file));
    assert!(m.contains("0x0D") && m.contains("f32"), "{m}");
}

#[test]
fn dimension_count_is_checked() {
    let m = idx_err(parse_idx(&header(0x0800, &[])));
    assert!(m.contains("0 dimensions"), "{m}");
    let m = idx_err(parse_idx(&header(0x0805, &[1, 1, 1, 1, 1])));
    assert!(m.contains("5 dimensions"), "{m}");
}

#[test]
fn truncated_files_fail() {
    assert!(idx_err(parse_idx(&[])).contains("empty"));
    assert!(idx_err(parse_idx(&[0, 0, 8])).contains("truncated"));
    // The header promises 3 dimensions, the file ends after 2.
    assert!(idx_err(parse_idx(&header(0x0803, &[1, 2]))).contains("truncated"));
    let (file, _) = images_file(3, 4, 5);
    for cut in [file.len() - 1, 16, 17] {
        let m = idx_err(parse_images(&file[..cut]));
        assert!(
            m.contains("truncated") && m.contains(&format!("only {} are present", cut - 16)),
            "{m}"
        );
        let m = idx_err(parse_images(&gzip(&file[..cut])));
        assert!(m.contains("truncated") && m.contains("gzip"), "{m}");
    }
}

#[test]
fn trailing_bytes_fail() {
    let (mut file, _) = images_file(2, 3, 3);
    file.push(0);
    assert!(idx_err(parse_images(&file)).contains("trailing"));
    assert!(idx_err(parse_images(&gzip(&file))).contains("trailing"));
}

#[test]
fn lying_dimensions_fail_cleanly() {
    // MNIST-sized header, 10 bytes of data.
    let mut file = header(0x0803, &[60000, 28, 28]);
    file.extend_from_slice(&[0; 10]);
    assert!(idx_err(parse_images(&file)).contains("47040000 bytes"));
    assert!(idx_err(parse_images(&gzip(&file))).contains("truncated"));
    // Over the size limit but not overflowing: refused before reading.
    let m = idx_err(parse_images(&header(0x0803, &[65535, 65535, 1])));
    assert!(m.contains(&MAX_IDX_BYTES.to_string()), "{m}");
    // The product of the dimensions overflows usize on 64-bit (and 32-bit) targets.
    let m = idx_err(parse_images(&header(0x0804, &[u32::MAX, u32::MAX, u32::MAX, u32::MAX])));
    assert!(m.contains("overflow"), "{m}");
}

#[test]
fn gzip_bomb_stops_at_the_declared_size() {
    // A header for 4 bytes followed by 8 MiB of zeros, compressed to a few KB.
    let mut file = header(0x0801, &[4]);
    file.resize(file.len() + (8 << 20), 0);
    let bomb = gzip(&file);
    assert!(bomb.len() < 64 << 10);
    assert!(idx_err(parse_labels(&bomb)).contains("trailing"));
}

#[test]
fn corrupt_gzip_fails() {
    let (file, _) = images_file(2, 8, 8);
    let mut gz = gzip(&file);
    let n = gz.len();
    gz[n - 8] ^= 0xFF; // the CRC-32 of the trailer
    let m = idx_err(parse_images(&gz));
    assert!(m.contains("corrupt"), "{m}");
    // A gzip header and nothing else.
    assert!(parse_images(&[0x1f, 0x8b]).is_err());
}

#[test]
fn to_bytes_refuses_inconsistent_data() {
    assert!(IdxU8 {
        dims: vec![2, 2],
        data: vec![0; 3]
    }
    .to_bytes()
    .is_err());
    assert!(IdxU8 {
        dims: vec![],
        data: vec![]
    }
    .to_bytes()
    .is_err());
}

#[test]
fn dataset_and_class_names() {
    assert_eq!("mnist".parse::<DatasetName>().unwrap(), DatasetName::Mnist);
    assert_eq!("Fashion".parse::<DatasetName>().unwrap(), DatasetName::Fashion);
    assert!(matches!(
        "cifar".parse::<DatasetName>(),
        Err(Error::InvalidParameter { .. })
    ));
    assert_eq!("test".parse::<Split>().unwrap(), Split::Test);
    assert_eq!(Split::Test.file_prefix(), "t10k");
    let digits = class_names("mnist").unwrap();
    assert_eq!(digits, (0..10).map(|d| d.to_string()).collect::<Vec<_>>());
    let fashion = class_names("fashion").unwrap();
    assert_eq!(fashion.len(), 10);
    assert_eq!(
        (fashion[0].as_str(), fashion[9].as_str()),
        ("T-shirt/top", "Ankle boot")
    );
    assert_eq!(class_names("svhn"), None);
}

/// Loads a split, or prints a note and returns `None` when the data folder is absent.
fn load_or_skip(name: DatasetName, split: Split, limit: Option<usize>) -> Option<Dataset> {
    if let Err(e) = dataset_dir(name) {
        eprintln!("note: skipping, {name} data not present: {e}");
        return None;
    }
    Some(load(name, split, limit).unwrap())
}

fn class_counts(ds: &Dataset) -> Vec<usize> {
    let mut counts = vec![0; 10];
    ds.labels.iter().for_each(|&l| counts[l] += 1);
    counts
}

fn check_pixels(ds: &Dataset) {
    let px = ds.images.as_slice().expect("standard layout");
    assert!(px.iter().all(|&p| (0.0..=1.0).contains(&p)));
    assert_eq!(px.iter().cloned().fold(0.0, f32::max), 1.0);
}

#[test]
fn mnist_test_split_loads() {
    let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let Some(ds) = load_or_skip(DatasetName::Mnist, Split::Test, None) else {
        return;
    };
    assert_eq!(ds.images.shape(), &[10000, 1, 28, 28]);
    assert_eq!(ds.len(), 10000);
    // The published class frequencies of the MNIST test set.
    assert_eq!(
        class_counts(&ds),
        vec![980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    );
    assert_eq!(&ds.labels[..5], &[7, 2, 1, 0, 4]);
    check_pixels(&ds);
    // MNIST's background is exactly zero in the corners.
    assert_eq!(ds.image(0)[[0, 0, 0]], 0.0);
}

#[test]
fn fashion_test_split_loads_from_gzip() {
    let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let Some(ds) = load_or_skip(DatasetName::Fashion, Split::Test, None) else {
        return;
    };
    assert_eq!(ds.images.shape(), &[10000, 1, 28, 28]);
    assert_eq!(class_counts(&ds), vec![1000; 10]);
    assert_eq!(&ds.labels[..3], &[9, 2, 1]); // Ankle boot, Pullover, Trouser
    check_pixels(&ds);
}

#[test]
fn limit_keeps_the_first_images() {
    let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let Some(full) = load_or_skip(DatasetName::Mnist, Split::Test, None) else {
        return;
    };
    let few = load(DatasetName::Mnist, Split::Test, Some(5)).unwrap();
    assert_eq!(few.images.shape(), &[5, 1, 28, 28]);
    assert_eq!(few.labels, full.labels[..5]);
    assert_eq!(few.image(4), full.image(4));
    // A limit larger than the split keeps everything; zero is refused.
    assert_eq!(load(DatasetName::Mnist, Split::Test, Some(20000)).unwrap().len(), 10000);
    assert!(matches!(
        load(DatasetName::Mnist, Split::Test, Some(0)),
        Err(Error::InvalidParameter { .. })
    ));
    // The training split of the other dataset, to cover both names of both folders.
    let train = load(DatasetName::Fashion, Split::Train, Some(3)).unwrap();
    assert_eq!(train.labels, vec![9, 0, 0]);
}

#[test]
fn missing_data_says_how_to_get_it() {
    let _g = ENV.lock().unwrap_or_else(|e| e.into_inner());
    let empty = std::env::temp_dir().join(format!("advlab-no-data-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let old = std::env::var_os("ADVLAB_DATA");
    std::env::set_var("ADVLAB_DATA", &empty);
    let dirs = dataset::data_dirs();
    let no_folder = load(DatasetName::Mnist, Split::Test, None);
    // The folder exists but holds no files.
    std::fs::create_dir_all(empty.join("fashion")).unwrap();
    let no_file = load(DatasetName::Fashion, Split::Test, None);
    match old {
        Some(v) => std::env::set_var("ADVLAB_DATA", v),
        None => std::env::remove_var("ADVLAB_DATA"),
    }
    std::fs::remove_dir_all(&empty).unwrap();
    assert_eq!(dirs, vec![empty.clone()]);
    for r in [no_folder, no_file] {
        match r {
            Err(Error::Io(m)) => assert!(m.contains("./build.sh data"), "{m}"),
            other => panic!("expected Error::Io, got {other:?}"),
        }
    }
}
